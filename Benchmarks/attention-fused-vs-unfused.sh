#!/usr/bin/env bash
# Fused (flash-style) attention against the unfused form built from Clinfer's own GEMM and
# softmax (QKᵀ, masked softmax, P·V), causal, 9 query heads over 3 KV heads, head dim 64, and
# split-KV decode against one work-item per head at 4096 keys, and block-sparse attention at
# block densities 100/50/25/10 % and with PBS selection against dense fused; same device, one run.
# Usage: Benchmarks/attention-fused-vs-unfused.sh [extra clinfer bench attention options]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product clinfer >&2
exec .build/release/clinfer bench attention --seqs 512,1024,2048,4096 "$@"
