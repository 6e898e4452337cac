#!/usr/bin/env bash
# Starts clinfer-server in the background, waits for /health to answer 200, runs
# scripts/openai-client-check.py (the official `openai` Python client) and
# scripts/structured-output-check.py (200 random JSON schemas, greedy and sampled, validated with
# `jsonschema`; STRUCTURED_SCHEMAS changes the count) against it, and stops the
# server (SIGTERM, graceful). Usage: scripts/check-openai.sh [SERVER_BINARY] (default
# .build/release/clinfer-server); CHECK_PORT (default 18080) picks the port.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/clinfer-server}
port=${CHECK_PORT:-18080}
python3 -c "import openai" 2>/dev/null || python3 -m pip install --quiet openai
log=$(mktemp)
"$binary" --host 127.0.0.1 --port "$port" --slots 2 --context 1024 2>"$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
    if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status == 200 else 1)" 2>/dev/null; then
        break
    fi
    kill -0 $server 2>/dev/null || { cat "$log" >&2; echo "clinfer-server exited before it was ready" >&2; exit 1; }
    sleep 0.5
done
python3 scripts/openai-client-check.py --base-url "http://127.0.0.1:$port/v1"
python3 scripts/structured-output-check.py --base-url "http://127.0.0.1:$port/v1" --schemas "${STRUCTURED_SCHEMAS:-200}"
