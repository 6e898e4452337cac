#!/usr/bin/env bash
# Runs `clinfer selftest` (every kernel at tiny shapes, checked against the CPU) on the oclgrind
# simulator with data-race detection. oclgrind exits 0 even when it finds errors, so the gate
# is its log file: any entry (out-of-bounds access, race, …) fails the check.
set -euo pipefail
clinfer=${1:?usage: check-kernels.sh PATH_TO_CLINFER}
command -v oclgrind >/dev/null || { echo "oclgrind is not installed (make deps)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The disk program cache is for real devices; the simulator compiles from source.
CLINFER_PROGRAM_CACHE=off CLINFER_DEVICE=oclgrind oclgrind --data-races --log "$log" "$clinfer" selftest
if [ -s "$log" ]; then
    echo "oclgrind reported problems:" >&2
    cat "$log" >&2
    exit 1
fi
echo "oclgrind: no out-of-bounds accesses or data races in any kernel"
