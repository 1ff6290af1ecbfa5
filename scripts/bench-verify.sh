#!/usr/bin/env bash
# Benchmarks `vanthu verify` (offline): against pdfsig over the shared
# signature corpus (one process per file for both, same run), peak RSS on a
# 100 MB signed PDF, and files per second over 1,000 signed one-page PDFs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdfsig >/dev/null || { echo "pdfsig missing: apt-get install -y poppler-utils" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }
CORPUS=${VANTHU_SIGNATURE_CORPUS:-$(cd .. && pwd)/shared/corpora/pdf-signatures}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
go build -o "$W/vanthu" ./cmd/vanthu
go build -o "$W/benchgen" ./scripts/benchgen
V="$W/vanthu"

mapfile -t files < <(find "$CORPUS" -name '*.pdf' | sort)
echo "== corpus: ${#files[@]} files, one process per file"
t0=$(date +%s.%N); for f in "${files[@]}"; do "$V" verify --offline "$f" >/dev/null 2>&1 || true; done; t1=$(date +%s.%N)
for f in "${files[@]}"; do pdfsig "$f" >/dev/null 2>&1 || true; done; t2=$(date +%s.%N)
echo "vanthu verify --offline: $(echo "$t1 - $t0" | bc) s"
echo "pdfsig:                  $(echo "$t2 - $t1" | bc) s"

echo "== signing the inputs with the dev PKI"
"$V" pki init "$W/pki" >/dev/null
KEY=(--key "$W/pki/official.p12" --password-file "$W/pki/p12-password")
"$W/benchgen" -o "$W/one.pdf"
"$V" sign "$W/one.pdf" "$W/one-signed.pdf" "${KEY[@]}" >/dev/null
"$W/benchgen" -size 100000000 -o "$W/big.pdf"
"$V" sign "$W/big.pdf" "$W/big-signed.pdf" "${KEY[@]}" >/dev/null
ls -l "$W/big-signed.pdf" | awk '{print "100 MB file:", $5, "bytes"}'

echo "== 100 MB signed PDF: peak RSS"
/usr/bin/time -f "vanthu verify: %e s, peak RSS %M KiB" "$V" verify --offline --trust "$W/pki/root-ca.pem" "$W/big-signed.pdf" >/dev/null || true
/usr/bin/time -f "pdfsig:        %e s, peak RSS %M KiB" pdfsig "$W/big-signed.pdf" >/dev/null || true

echo "== 1,000 signed one-page PDFs, one vanthu process, $(nproc) cores"
mkdir "$W/dir"
for i in $(seq 1 1000); do cp "$W/one-signed.pdf" "$W/dir/$i.pdf"; done
t0=$(date +%s.%N)
"$V" verify --offline --trust "$W/pki/root-ca.pem" --format json "$W/dir" > "$W/out.jsonl" || true
t1=$(date +%s.%N)
n=$(wc -l < "$W/out.jsonl")
echo "verified $n files in $(echo "$t1 - $t0" | bc) s: $(echo "scale=1; $n / ($t1 - $t0)" | bc) files/s"
