#!/usr/bin/env bash
# Sweeps GEMM kernel configurations over the default shapes (256³ … 512×4096×4096, both B
# layouts), verifies each against the CPU GEMM, and writes bench-out/gemm-sweep.csv and a
# heatmap bench-out/gemm-sweep.svg. Takes several minutes on a 2-core CPU device.
# Usage: Benchmarks/gemm-sweep.sh [extra clinfer bench gemm options]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product clinfer >&2
exec .build/release/clinfer bench gemm "$@"
