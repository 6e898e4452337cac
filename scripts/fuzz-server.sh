#!/usr/bin/env bash
# Starts clinfer-server in the background (--slots 2 --context 512 --queue-size 4
# --request-timeout 30), waits for /health to answer 200, runs scripts/fuzz-server.py (seeded hostile
# HTTP requests; Python standard library only) against it, checks that the server is still alive,
# and stops it (SIGTERM, graceful). Exits with the fuzzer's status, or 1 if the server died.
# Usage: scripts/fuzz-server.sh [SERVER_BINARY] [REQUESTS] (defaults .build/release/clinfer-server, 2000).
# FUZZ_PORT (default 18082) picks the port; FUZZ_SEED (default: today's date, UTC, as YYYYMMDD) the
# seed; FUZZ_API_KEY runs server and fuzzer with an API key; FUZZ_TIME_LIMIT (default 900) bounds the
# fuzzer's run in seconds; FUZZ_ARGS adds fuzzer options (e.g. --allow-bare-http-400).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/clinfer-server}
requests=${2:-2000}
port=${FUZZ_PORT:-18082}
seed=${FUZZ_SEED:-$(date -u +%Y%m%d)}
time_limit=${FUZZ_TIME_LIMIT:-900}
[ -x "$binary" ] || { echo "fuzz-server: no server binary at $binary" >&2; exit 1; }
echo "fuzz-server: seed $seed; reproduce with FUZZ_SEED=$seed $0 $binary $requests"

server_args=(--host 127.0.0.1 --port "$port" --slots 2 --context 512 --queue-size 4 --request-timeout 30)
fuzz_args=(--url "http://127.0.0.1:$port" --requests "$requests" --seed "$seed" --time-limit "$time_limit")
if [ -n "${FUZZ_API_KEY:-}" ]; then
    server_args+=(--api-key "$FUZZ_API_KEY")
    fuzz_args+=(--api-key "$FUZZ_API_KEY")
fi

log=$(mktemp)
"$binary" "${server_args[@]}" 2>"$log" &
server=$!

server_exit=
stop_server() {
    # SIGTERM, then up to 40 s for the graceful shutdown, then SIGKILL; sets server_exit.
    [ -z "$server_exit" ] || return 0
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 80); do
        kill -0 "$server" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$server" 2>/dev/null; then
        echo "fuzz-server: clinfer-server ignored SIGTERM for 40 s; killing it" >&2
        kill -KILL "$server" 2>/dev/null || true
    fi
    server_exit=0
    wait "$server" 2>/dev/null || server_exit=$?
}
trap 'stop_server; rm -f "$log"' EXIT

ready=0
for _ in $(seq 1 600); do
    if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status == 200 else 1)" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "fuzz-server: clinfer-server exited before it was ready" >&2; exit 1; }
    sleep 0.5
done
[ "$ready" = 1 ] || { tail -n 20 "$log" >&2; echo "fuzz-server: clinfer-server not ready after 300 s" >&2; exit 1; }

status=0
# shellcheck disable=SC2086
python3 scripts/fuzz-server.py "${fuzz_args[@]}" --pid "$server" ${FUZZ_ARGS:-} || status=$?

if ! kill -0 "$server" 2>/dev/null; then
    wait "$server" 2>/dev/null && code=0 || code=$?
    echo "fuzz-server: FAIL: clinfer-server died during the run (exit status $code); the end of its log, less info lines:" >&2
    grep -v ' info clinfer' "$log" | tail -n 12 >&2 || true
    status=1
fi
crashes=$(grep -c -E 'Fatal error|fatal error|Illegal instruction|Segmentation fault|Stack overflow' "$log" || true)
if [ "$crashes" != 0 ]; then
    echo "fuzz-server: FAIL: the server log reports a crash:" >&2
    grep -m 5 -E 'Fatal error|fatal error|Illegal instruction|Segmentation fault|Stack overflow' "$log" >&2 || true
    status=1
fi
if kill -0 "$server" 2>/dev/null; then
    stop_server
    if [ "$server_exit" != 0 ]; then
        echo "fuzz-server: FAIL: clinfer-server exited with status $server_exit after SIGTERM (expected a graceful 0)" >&2
        tail -n 5 "$log" >&2
        status=1
    fi
fi
errors=$(grep -c 'request failed' "$log" || true)
[ "$errors" = 0 ] || { echo "fuzz-server: the server logged $errors 'request failed' (5xx) errors, e.g.:" >&2; grep -m 3 'request failed' "$log" >&2 || true; }
exit "$status"
