#!/usr/bin/env bash
# Quantized matmul in every format (Q8_0, Q4_0, Q4_1, INT4-g128, LLM.int8) on 1x4096x4096,
# 1x11008x4096, 8x4096x4096 and 128x4096x4096, measured in one run next to the device's memory
# bandwidth (clpeak's when installed, else Clinfer's read probe) and the fp32 GEMM on the same
# shape; prints time, GFLOPS, weight GB/s and the ratios (or JSON lines with --json).
# Usage: Benchmarks/quant-vs-bandwidth.sh [extra clinfer bench quant options]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product clinfer >&2
exec .build/release/clinfer bench quant "$@"
