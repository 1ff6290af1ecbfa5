#!/usr/bin/env bash
# Builds the pages' front-end files: installs the npm packages exactly as
# web/ui/package-lock.json pins them (npm ci) and copies the files the pages
# load into web/ui/static/vendor, which go:embed puts into the binary. The
# vendor directory is generated (gitignored): nothing from npm is committed.
# axe-core stays in node_modules: only the browser tests inject it.
set -euo pipefail
cd "$(dirname "$0")/../web/ui"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing; install it with: sudo apt-get install -y npm" >&2
  exit 1
fi
# --omit=optional: pdfjs-dist's optional native canvas is for Node, not for
# browsers; --ignore-scripts: no package runs code at install.
npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
out=static/vendor
rm -rf "$out"
mkdir -p "$out/pdfjs"
cp node_modules/htmx.org/dist/htmx.min.js "$out/"
cp node_modules/chart.js/dist/chart.umd.min.js "$out/"
cp node_modules/pdfjs-dist/build/pdf.min.mjs node_modules/pdfjs-dist/build/pdf.worker.min.mjs "$out/pdfjs/"
for pkg in htmx.org chart.js pdfjs-dist; do
  for f in node_modules/"$pkg"/LICENSE*; do [ -e "$f" ] && cp "$f" "$out/LICENSE.$pkg"; done
done
# The stamp make compares with the lockfile.
date -u +%FT%TZ >"$out/.built"
