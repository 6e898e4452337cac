#!/usr/bin/env bash
# Sentence embeddings per second of all-MiniLM-L6-v2: Clinfer on the OpenCL device and on its CPU
# path, and sentence-transformers on torch (CPU) when installed, for batches of 1, 8 and 32 texts
# of 16 and 128 tokens ([CLS]/[SEP] included), same texts, same machine, one run. Prints a table
# with the ratios to torch (the target is >= 1.0x).
# Usage: Benchmarks/embeddings-vs-torch.sh [--runs N] [--model DIR] [--threads N]
#   (torch: pip install torch sentence-transformers; --threads defaults to the number of cores;
#   CLINFER=PATH uses that clinfer binary instead of building .build/release/clinfer)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 model=models/all-MiniLM-L6-v2 threads=$(nproc)
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -d "$model" ] || { echo "no model at $model: run make models" >&2; exit 1; }
export POCL_AFFINITY=${POCL_AFFINITY:-1}
clinfer=${CLINFER:-}
if [ -z "$clinfer" ]; then
    swift build -c release --product clinfer >&2
    clinfer=.build/release/clinfer
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$clinfer" bench embed --model "$model" --runs "$runs" --json >"$out/clinfer.jsonl"
if command -v python3 >/dev/null; then
    python3 Benchmarks/minilm_torch_peer.py "$model" --threads "$threads" --runs "$runs" >"$out/torch.jsonl" 2>"$out/torch.err" \
        || echo '{"available": false}' >"$out/torch.jsonl"
else
    echo '{"available": false}' >"$out/torch.jsonl"
fi
if ! command -v python3 >/dev/null; then cat "$out/clinfer.jsonl"; exit 0; fi
python3 - "$out/clinfer.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
ours = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peer = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
torch = {(p["batch"], p["tokens"]): p for p in peer if p.get("available")}
rate = {(o["backend"], o["batch"], o["tokens"]): o["embeddings_per_s"] for o in ours}
device = next((o["device"] for o in ours if o["backend"] == "opencl"), "opencl")
version = next(iter(torch.values()))["torch"] if torch else None
print(f"all-MiniLM-L6-v2 embeddings/s (median wall time per batch); OpenCL device: {device}; "
      + (f"torch {version} CPU, {next(iter(torch.values()))['threads']} threads" if torch else "torch: not installed"))
print("| batch × tokens | Clinfer OpenCL | Clinfer CPU | torch CPU | OpenCL / torch | CPU / torch |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for tokens in sorted({o["tokens"] for o in ours}):
    for batch in sorted({o["batch"] for o in ours}):
        cl, cpu, t = rate.get(("opencl", batch, tokens)), rate.get(("cpu", batch, tokens)), torch.get((batch, tokens))
        tr = t["embeddings_per_s"] if t else None
        f = lambda v: f"{v:.1f}" if v is not None else "–"
        r = lambda v: f"{v / tr:.2f}×" if v is not None and tr else "–"
        print(f"| {int(batch)} × {int(tokens)} | {f(cl)} | {f(cpu)} | {f(tr)} | {r(cl)} | {r(cpu)} |")
PY
