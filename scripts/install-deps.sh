#!/usr/bin/env bash
# Installs the Debian packages vanthu needs when they are missing.
#   install-deps.sh run   PostgreSQL server binaries, for `make run`
#   install-deps.sh test  everything the test suite starts or calls
set -euo pipefail
want=${1:-test}

declare -A need # command -> Debian package
need[postgres]=postgresql
if [ "$want" = test ]; then
  need[softhsm2-util]=softhsm2
  need[pdfsig]=poppler-utils
  need[pdftoppm]=poppler-utils
  need[qpdf]=qpdf
  need[chromium]=chromium
fi

have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$1" = postgres ] && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && return 0
  return 1
}

missing=()
for cmd in "${!need[@]}"; do have "$cmd" || missing+=("${need[$cmd]}"); done
if [ "$want" = test ] && ! fc-list 2>/dev/null | grep -qi 'Liberation Serif'; then missing+=(fonts-liberation2); fi
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
else
  echo "missing Debian packages; install them with: sudo apt-get install -y $pkgs" >&2
  exit 1
fi
