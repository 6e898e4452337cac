#!/usr/bin/env bash
# GEMM benchmark against the peers, measured in one run on the same device:
#   Clinfer (tuned configuration) vs CLBlast on the same OpenCL device and buffers,
#   and vs OpenBLAS cblas_sgemm on the host CPU; skinny shapes also vs the device's read bandwidth.
# Prints a table (or JSON lines with --json) with medians of several runs and the ratios.
# Usage: Benchmarks/gemm-vs-peers.sh [extra clinfer bench gemm options]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product clinfer >&2
exec .build/release/clinfer bench gemm \
    --shapes 1024x1024x1024,128x4096x4096,1x4096x4096,8x4096x4096 \
    --compare clblast,openblas "$@"
