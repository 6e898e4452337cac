#!/usr/bin/env bash
# lm-evaluation-harness's `local-completions` model against a started clinfer-server on a small
# local multiple-choice task (scripts/lm-eval/: a task YAML and its JSONL, no dataset download),
# then the same accuracy computed from `clinfer score --logprobs`: the two must be equal. Not in
# CI (the harness's dependencies are heavy): pip install "lm-eval[api]" (done here when missing).
# The harness tokenizes through the server (tokenizer_backend=remote: /tokenizer_info,
# /tokenize, /detokenize) and scores with echo + logprobs on token prompts.
# Usage: scripts/lm-eval-check.sh [BUILD_DIR] (default .build/release; needs clinfer and clinfer-server)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
port=${PORT:-18099}
python3 -c "import lm_eval" 2>/dev/null || python3 -m pip install --quiet "lm-eval[api]"
work=$(mktemp -d)
sed "s#@DATA@#$PWD/scripts/lm-eval/clinfer_mc.jsonl#" scripts/lm-eval/clinfer_mc.yaml >"$work/clinfer_mc.yaml"
"$bin/clinfer-server" --host 127.0.0.1 --port "$port" --slots 1 --context 1024 --embedding-model none 2>"$work/server.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    kill -0 $server 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.5
done
model=$(curl -s "http://127.0.0.1:$port/v1/models" | python3 -c "import json,sys; print(json.load(sys.stdin)['data'][0]['id'])")
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 python3 -m lm_eval --model local-completions \
    --model_args "model=$model,base_url=http://127.0.0.1:$port/v1/completions,tokenizer_backend=remote,tokenized_requests=True,num_concurrent=1,max_retries=1" \
    --tasks clinfer_mc --include_path "$work" --output_path "$work/out" --log_samples 2>&1 | tail -8
python3 scripts/lm-eval/score_with_clinfer.py "$bin/clinfer" scripts/lm-eval/clinfer_mc.jsonl "$work/out"
