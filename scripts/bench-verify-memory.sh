#!/usr/bin/env bash
# Measures the verifier's memory on hostile input (issue 10 item 8):
#  1. `vanthu verify` peak RSS, one process per file, over the shared
#     signature corpus, the hostile corpus (every decompression bomb of
#     signing/verify/tamper on an unsigned and two signed files, every
#     manipulation of tamper.Cases) and the inputs Go's fuzzer kept for
#     FuzzVerify/FuzzOpen, when the build cache has any. Target: every file
#     under 150 MB.
#  2. `vanthu serve`: four bombs posted to /api/v1/verify at once, and a
#     signed one-page PDF posted beside them. Targets: serve's peak RSS under
#     512 MB, the one-page answer in under 1 s.
# Usage: scripts/bench-verify-memory.sh [all|cli|serve]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }
for tool in curl jq; do command -v $tool >/dev/null || { echo "$tool missing: apt-get install -y $tool" >&2; exit 1; }; done
CORPUS=${VANTHU_SIGNATURE_CORPUS:-$(cd .. && pwd)/shared/corpora/pdf-signatures}
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpora/pdf-signatures
W=$(mktemp -d)
SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
go build -o "$W/vanthu" ./cmd/vanthu
go build -o "$W/hostilegen" ./scripts/hostilegen
go build -o "$W/benchgen" ./scripts/benchgen
V="$W/vanthu"
"$W/hostilegen" -o "$W/hostile" -fuzz-cache "$(go env GOCACHE)/fuzz" \
	"$CORPUS/pyhanko/sig-with-ski-sid.pdf" "$CORPUS/esig-dss/pdf-signed-original.pdf"

PART=${1:-all} # all, cli or serve
if [ "$PART" != serve ]; then
echo "== vanthu verify --offline, one process per file: peak RSS"
rss() { # file -> "KiB seconds"
	/usr/bin/time -f "%M %e" -o "$W/time" "$V" verify --offline "$1" >/dev/null 2>&1 || true
	tail -1 "$W/time" # after "Command exited with non-zero status N"
}
for set in corpus hostile; do
	dir=$CORPUS; [ $set = hostile ] && dir=$W/hostile
	mapfile -t files < <(find "$dir" -name '*.pdf' | sort)
	: > "$W/$set.tsv"
	for f in "${files[@]}"; do echo "$(rss "$f") ${f#$dir/}" >> "$W/$set.tsv"; done
	sort -n "$W/$set.tsv" | awk -v set=$set -v n=${#files[@]} '
		{ kib[NR] = $1; line[NR] = $0 }
		END { printf "%s: %d files, median %.1f MB, max %.1f MB (%s)\n", set, n, kib[int((NR+1)/2)]/1000, kib[NR]/1000, line[NR] }'
done
echo "heaviest hostile files (KiB, s, file):"
sort -n "$W/hostile.tsv" | tail -5

fi
[ "$PART" = cli ] && exit 0

echo "== vanthu serve: four bombs at once and a one-page verification beside them"
"$V" pki init "$W/pki" >/dev/null
"$W/benchgen" -o "$W/one.pdf"
"$V" sign "$W/one.pdf" "$W/one-signed.pdf" --key "$W/pki/official.p12" --password-file "$W/pki/p12-password" >/dev/null
PORT=$(( 20000 + RANDOM % 20000 ))
VANTHU_TRUST="$W/pki/root-ca.pem" VANTHU_VERIFY_OFFLINE=true "$V" serve --addr 127.0.0.1:$PORT --data-dir "$W/var" > "$W/serve.log" 2>&1 &
SERVE_PID=$!
URL=http://127.0.0.1:$PORT
for _ in $(seq 1 600); do curl -fs "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/readyz" >/dev/null || { cat "$W/serve.log"; exit 1; }
ADMIN=$(cat "$W/var/admin-token")
api() { curl -fsS -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' "$@"; }
ORG=$(api -X POST "$URL/api/v1/organizations" -d '{"code":"UBND","name":"Ủy ban nhân dân"}' | jq -r .id)
UNIT=$(api -X POST "$URL/api/v1/organizations/$ORG/units" -d '{"code":"VP","name":"Văn phòng"}' | jq -r .id)
USER=$(api -X POST "$URL/api/v1/users" -d "{\"username\":\"kiemtra\",\"full_name\":\"Người kiểm tra\",\"organization_id\":\"$ORG\",\"unit_ids\":[\"$UNIT\"],\"roles\":[\"drafter\"]}" | jq -r .id)
TOKEN=$(api -X POST "$URL/api/v1/users/$USER/tokens" -d '{"name":"bench"}' | jq -r .token)
verify() { # file -> "HTTP-status seconds verdict"
	curl -sS -o "$W/resp.$2" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" -F "file=@$1" "$URL/api/v1/verify?offline=true"
	echo " $(jq -r .verdict "$W/resp.$2" 2>/dev/null)"
}
echo "one-page alone:   $(verify "$W/one-signed.pdf" alone)"
idle=$(awk '/VmRSS/ {print $2}' /proc/$SERVE_PID/status)
pids=()
i=0
for b in bomb-one-huge-stream-plain bomb-many-streams-plain bomb-nested-object-streams-plain bomb-many-streams-sig-with-ski-sid; do
	i=$((i + 1))
	( echo "bomb $b: $(verify "$W/hostile/$b.pdf" bomb$i)" ) &
	pids+=($!)
done
sleep 0.3
echo "one-page beside:  $(verify "$W/one-signed.pdf" beside)"
wait "${pids[@]}"
echo "serve RSS: $((idle / 1000)) MB before the bombs, peak $(awk '/VmHWM/ {print int($2/1000)}' /proc/$SERVE_PID/status) MB (VmHWM, the whole run)"
