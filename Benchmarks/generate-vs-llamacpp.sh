#!/usr/bin/env bash
# Prompt (prefill) and decode tok/s of Clinfer on the default model (SmolLM2-135M-Instruct Q4_1)
# next to llama.cpp on the same machine and model, measured in one run: 256 prompt tokens,
# 64 generated tokens, medians of 3 runs each. llama.cpp is measured through llama-cpp-python
# when it is installed (`pip install llama-cpp-python`, ~12 min build on 2 cores); otherwise
# its line says so. Also prints decode's weight traffic against the device's read bandwidth.
# Usage: Benchmarks/generate-vs-llamacpp.sh [--device opencl|cpu] [--model PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
model="models/SmolLM2-135M-Instruct.Q4_1.gguf"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = "--model" ] && model="${args[i+1]}"; done
[ -f "$model" ] || scripts/fetch-models.sh >&2
swift build -c release --product clinfer >&2
export POCL_AFFINITY="${POCL_AFFINITY:-1}"
ours="$(.build/release/clinfer bench generate --prompt-tokens 256 --decode-tokens 64 --runs 3 --json "$@")"
peer="$(python3 Benchmarks/llamacpp_peer.py "$model" --threads "$(nproc)" 2>/dev/null || echo '{"available": false}')"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"clinfer ({ours['device']}): prefill {ours['prefill_tok_s']:.1f} tok/s, decode {ours['decode_tok_s']:.1f} tok/s")
if ours.get("device_read_gb_s"):
    print(f"  decode reads {ours['decode_weight_gb_s']:.2f} GB/s of weights = {ours['decode_weight_gb_s'] / ours['device_read_gb_s']:.2f}x the device's read bandwidth ({ours['device_read_gb_s']:.1f} GB/s)")
if peer.get("available"):
    print(f"llama.cpp (CPU, {peer.get('threads', '?')} threads): prefill {peer['prefill_tok_s']:.1f} tok/s, decode {peer['decode_tok_s']:.1f} tok/s")
    print(f"ratio clinfer / llama.cpp: prefill {ours['prefill_tok_s'] / peer['prefill_tok_s']:.2f}x, decode {ours['decode_tok_s'] / peer['decode_tok_s']:.2f}x")
else:
    print("llama.cpp: not installed (pip install llama-cpp-python to compare)")
PY
