#!/usr/bin/env bash
# Two-pass softmax (Dukhan & Ablavatski) against the classic three-pass kernel on large rows,
# measured in one run on the same device: device-time medians, element rate, speed-up.
# Usage: Benchmarks/softmax-two-vs-three-pass.sh [extra clinfer bench softmax options]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product clinfer >&2
exec .build/release/clinfer bench softmax "$@"
