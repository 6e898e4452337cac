#!/usr/bin/env bash
# Kernel correctness and speed on another OpenCL device (a GPU machine without Swift): every
# kernel's self-test against the CPU, a model's OpenCL logits against the CPU fallback, and the
# quant, GEMM and attention benchmarks. Build the binary here with the Swift runtime linked in:
#   swift build -c release --static-swift-stdlib --product clinfer --scratch-path /tmp/static
#   strip -o clinfer-static /tmp/static/release/clinfer
# then run this script there: CLINFER=./clinfer-static Benchmarks/opencl-device-check.sh
# Where the machine has the NVIDIA driver's libnvidia-opencl.so but no ICD file, the script
# writes one (OCL_ICD_VENDORS); libOpenCL.so.1 must be on the loader path (LD_LIBRARY_PATH).
# Benchmarks/results/nvidia-h200-opencl.log is its output on an NVIDIA H200.
set -uo pipefail
cd "$(dirname "$0")/.."
C="${CLINFER:-.build/release/clinfer}"
if [ -z "${OCL_ICD_VENDORS:-}" ] && [ ! -d /etc/OpenCL/vendors ]; then
    lib=$(find / -name 'libnvidia-opencl.so*' -not -path '/proc/*' 2>/dev/null | head -1)
    if [ -n "$lib" ]; then
        mkdir -p /tmp/clinfer-icd && echo "$lib" >/tmp/clinfer-icd/nvidia.icd
        export OCL_ICD_VENDORS=/tmp/clinfer-icd
        echo "OpenCL driver: $lib"
    fi
fi
export CLINFER_BACKEND=opencl CLINFER_CACHE_DIR="${CLINFER_CACHE_DIR:-/tmp/clinfer-cache}"
step() {
    local limit=$1
    shift
    echo "== $*"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tail -n 200
    echo "-- rc ${PIPESTATUS[0]}, $((SECONDS - start)) s"
}
step 60 "$C" devices
step 300 "$C" selftest
model=Tests/ClinferEngineTests/Golden/qwen2-tiny.gguf
tokens="[1,2,3,4,5,6,7,8,9,10,11,12]"
for device in opencl cpu; do
    timeout 60 "$C" score --model $model --device $device --tokens "$tokens" >/tmp/clinfer-score-$device.json 2>/dev/null
done
python3 - <<'PY'
import json
a, b = (json.load(open(f"/tmp/clinfer-score-{d}.json")) for d in ("opencl", "cpu"))
diff = max(abs(x - y) for p, q in zip(a["positions"], b["positions"]) for x, y in zip(p["logits"], q["logits"]))
print(f"qwen2-tiny logits, OpenCL vs CPU: max |diff| {diff:.3g}")
PY
step 120 "$C" bench quant --shapes 1x4096x4096,1x11008x4096,128x4096x4096
step 120 "$C" bench gemm --shapes 1024x1024x1024,4096x4096x4096,128x4096x4096 --config "tiled tm4 tn3 vw8 wg8x1"
step 120 "$C" bench attention --seqs 1024 --heads 32 --kv-heads 8
