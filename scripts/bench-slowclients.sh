#!/usr/bin/env bash
# Slow clients: 1,000 connections each sending an unauthenticated login body
# one byte every 5 s; counts the descriptors `vanthu serve` (zero-config:
# embedded PostgreSQL, local blobs) holds meanwhile. Run with a vanthu
# source tree as $1 to measure another version (e.g. an older commit's
# `git archive` extracted to a directory); extra arguments go to serve.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-.}; shift || true
W=$(mktemp -d); trap 'kill "${PID:-}" 2>/dev/null; wait "${PID:-}" 2>/dev/null; rm -rf "$W"' EXIT
(cd "$SRC" && go build -o "$W/vanthu" ./cmd/vanthu)
go build -o "$W/slowclients" ./scripts/slowclients
ulimit -n 8192
ADDR=127.0.0.1:$((20000 + RANDOM % 20000))
"$W/vanthu" serve --addr "$ADDR" --data-dir "$W/var" "$@" >"$W/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do curl -fs "http://$ADDR/readyz" >/dev/null && break; sleep 0.5; done
"$W/slowclients" -addr "$ADDR" -pid "$PID" -n 1000
