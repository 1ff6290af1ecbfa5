#!/usr/bin/env bash
# Per-file speed of `vanthu verify` against pdfsig (issue 10): every file of
# the shared signature corpus is verified in its own process by both tools,
# interleaved in the same run (ROUNDS times each, default 5), and the
# medians per file are compared: the total of the medians and the worst
# per-file ratio. Also the start-up cost: `vanthu version` wall time (median
# of 20) and peak RSS.
#
#   scripts/bench-verify-perfile.sh            # builds bin and measures
#   ROUNDS=9 scripts/bench-verify-perfile.sh
#
# vanthu runs as an auditor would: `verify --offline --trust <corpus anchors>`
# (trust loading included). pdfsig runs with its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdfsig >/dev/null || { echo "pdfsig missing: apt-get install -y poppler-utils" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }
CORPUS=${VANTHU_SIGNATURE_CORPUS:-$(cd .. && pwd)/shared/corpora/pdf-signatures}
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpora/pdf-signatures
ROUNDS=${ROUNDS:-5}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
go build -o "$W/vanthu" ./cmd/vanthu
V="$W/vanthu"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "== vanthu version: start-up"
for i in $(seq 20); do t0=$(now); "$V" version >/dev/null; echo $(( $(now) - t0 )); done | median |
	awk '{printf "vanthu version: median %.1f ms (20 runs)\n", $1/1e6}'
/usr/bin/time -f "vanthu version: peak RSS %M KiB" "$V" version >/dev/null

mapfile -t files < <(cd "$CORPUS" && find . -name '*.pdf' | sed 's|^\./||' | sort)
echo "== corpus: ${#files[@]} files, one process per file, $ROUNDS rounds, interleaved"
: > "$W/rows"
for f in "${files[@]}"; do
	: > "$W/v"; : > "$W/p"
	for r in $(seq "$ROUNDS"); do
		t0=$(now); "$V" verify --offline --trust "$CORPUS/trust-anchors" "$CORPUS/$f" >/dev/null 2>&1 || true; echo $(( $(now) - t0 )) >> "$W/v"
		t0=$(now); pdfsig "$CORPUS/$f" >/dev/null 2>&1 || true; echo $(( $(now) - t0 )) >> "$W/p"
	done
	echo "$f $(median < "$W/v") $(median < "$W/p")" >> "$W/rows"
done
sort -k4 -g <(awk '{printf "%s %.1f %.1f %.2f\n", $1, $2/1e6, $3/1e6, $2/$3}' "$W/rows") |
	awk 'BEGIN {print "file  vanthu-ms  pdfsig-ms  ratio"} {print}'
awk '{v+=$2; p+=$3; r=$2/$3; if (r>w) {w=r; wf=$1}} END {
	printf "total of medians: vanthu %.2f s, pdfsig %.2f s, ratio %.2f (target <= 0.70)\n", v/1e9, p/1e9, v/p
	printf "worst file: %s at %.2fx pdfsig (target <= 1.30)\n", wf, w }' "$W/rows"
