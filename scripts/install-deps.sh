#!/usr/bin/env bash
# Installs the system packages Clinfer builds, tests and benchmarks with (Debian/Ubuntu), only
# those missing. Needs root or sudo; prints what it would install otherwise.
#   pocl-opencl-icd      the OpenCL device (PoCL, a real OpenCL implementation on the CPU)
#   ocl-icd-opencl-dev   the OpenCL ICD loader (-lOpenCL);  opencl-headers: <CL/cl.h>
#   oclgrind             OpenCL simulator for `make check-kernels` (out-of-bounds, races)
#   libclblast-dev       CLBlast, the GEMM peer of `clinfer bench gemm --compare`
#   libopenblas0         OpenBLAS, the host CPU peer
#   clinfo               device listing for humans
#   clpeak               device peak bandwidth, the yardstick of `clinfer bench quant`
set -euo pipefail
packages=(pocl-opencl-icd ocl-icd-opencl-dev opencl-headers oclgrind libclblast-dev libopenblas0 clinfo clpeak)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "need root to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
