#!/usr/bin/env bash
# Per-file speed of `vanthu verify` against pdfsig (issue 10): every file of
# the shared signature corpus is verified in its own process by both tools,
# interleaved in the same run (ROUNDS times each, default 5), and the
# medians per file are compared: the total of the medians and the worst
# per-file ratio, for wall time and for CPU time (user + system of the
# process, which a busy machine disturbs much less than wall time). Also the
# start-up cost: `vanthu version` wall and CPU time (median of 20 runs) and
# peak RSS.
#
#   scripts/bench-verify-perfile.sh                       # builds vanthu, measures
#
# It builds what `make build` installs as bin/vanthu: cmd/vanthu-cli, static
# (CGO_ENABLED=0), which runs `verify` and `version` itself (BASELINE=1
# builds the service binary cmd/vanthu instead, for comparison).
#   ROUNDS=9 scripts/bench-verify-perfile.sh
#   VANTHU_BIN=/path/to/old/vanthu scripts/bench-verify-perfile.sh   # another build
#   STARTUP_ONLY=1 STARTUP_ROUNDS=40 scripts/bench-verify-perfile.sh  # start-up only
#
# The start-up floor: a Go hello-world built exactly as bin/vanthu is
# (static, CGO_ENABLED=0, same toolchain and flags) runs interleaved with
# `vanthu version`, STARTUP_ROUNDS times (default 20); the medians and their
# ratio say how much of `vanthu version` any Go process costs on this
# machine at this load.
#
# vanthu runs as an auditor would: `verify --offline --trust <corpus anchors>`
# (trust loading included); pdfsig runs with its defaults.
set -euo pipefail
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
cd "$(dirname "$0")/.."
command -v pdfsig >/dev/null || { echo "pdfsig missing: apt-get install -y poppler-utils" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing: apt-get install -y python3" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing: apt-get install -y time" >&2; exit 1; }
CORPUS=${VANTHU_SIGNATURE_CORPUS:-/work/shared/corpora/pdf-signatures}
ROUNDS=${ROUNDS:-5}
STARTUP_ROUNDS=${STARTUP_ROUNDS:-20}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
V=${VANTHU_BIN:-}
if [ -z "$V" ]; then
	if [ "${BASELINE:-}" = 1 ]; then
		go build -o "$W/vanthu" ./cmd/vanthu
	else
		CGO_ENABLED=0 go build -o "$W/vanthu" ./cmd/vanthu-cli
	fi
	V="$W/vanthu"
fi
/usr/bin/time -f "vanthu version: peak RSS %M KiB" "$V" version >/dev/null
# A Go hello-world, measured beside `vanthu version`: the floor of any Go
# process on this machine under its current load.
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n' >"$W/hello.go"
CGO_ENABLED=0 go build -o "$W/hello" "$W/hello.go"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%FT%TZ)"
python3 - "$V" "$CORPUS" "$ROUNDS" "$W/hello" "$STARTUP_ROUNDS" "${STARTUP_ONLY:-}" <<'PY'
import os, sys, time, statistics

vanthu, corpus, rounds, hello = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
startup_rounds, startup_only = int(sys.argv[5]), sys.argv[6] == "1"

def run(argv):
    """Wall and CPU (user+sys) seconds of one process, output discarded."""
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1); os.dup2(fd, 2)
        os.execvp(argv[0], argv)
    _, _, ru = os.wait4(pid, 0)
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime

med = statistics.median
v, h = [], []
for _ in range(startup_rounds):
    v.append(run([vanthu, "version"]))
    h.append(run([hello]))
vw, vc = med(w for w, _ in v), med(c for _, c in v)
hw, hc = med(w for w, _ in h), med(c for _, c in h)
print(f"vanthu version: median {vw*1e3:.1f} ms wall, {vc*1e3:.1f} ms CPU ({startup_rounds} runs; target 20 ms)")
print(f"Go hello-world, same runs: median {hw*1e3:.1f} ms wall, {hc*1e3:.1f} ms CPU")
print(f"vanthu version / hello-world: {vw/hw:.2f}x wall, {vc/hc:.2f}x CPU; above the floor: {(vw-hw)*1e3:.1f} ms wall, {(vc-hc)*1e3:.1f} ms CPU")
if startup_only:
    sys.exit(0)

files = sorted(os.path.relpath(os.path.join(d, f), corpus)
               for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".pdf"))
print(f"== corpus: {len(files)} files, one process per file, {rounds} rounds, interleaved")
rows = []
for f in files:
    p = os.path.join(corpus, f)
    vs, ps = [], []
    for _ in range(rounds):
        vs.append(run([vanthu, "verify", "--offline", "--trust", os.path.join(corpus, "trust-anchors"), p]))
        ps.append(run(["pdfsig", p]))
    rows.append((f, med(w for w, _ in vs), med(w for w, _ in ps), med(c for _, c in vs), med(c for _, c in ps)))

print(f"{'file':72} {'wall ms v/p':>16} {'ratio':>6} {'cpu ms v/p':>16} {'ratio':>6}")
for f, vw, pw, vc, pc in sorted(rows, key=lambda r: r[3] / r[4]):
    print(f"{f:72} {vw*1e3:7.1f}/{pw*1e3:7.1f} {vw/pw:6.2f} {vc*1e3:7.1f}/{pc*1e3:7.1f} {vc/pc:6.2f}")
for name, vi, pi in (("wall", 1, 2), ("CPU", 3, 4)):
    tv, tp = sum(r[vi] for r in rows), sum(r[pi] for r in rows)
    worst = max(rows, key=lambda r: r[vi] / r[pi])
    print(f"{name}: total of medians vanthu {tv:.2f} s, pdfsig {tp:.2f} s, ratio {tv/tp:.2f} (target <= 0.70); "
          f"worst file {worst[0]} at {worst[vi]/worst[pi]:.2f}x (target <= 1.30)")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
