#!/bin/sh
# Installs every Debian 12 package glia needs to build and test. Idempotent; run as root.
# Set GLIA_DEPS_NO_INTEROP=1 to skip the large PyTorch/nibabel/node packages used by interop tests
# (and onnxruntime-node, which tools/bench_onnx.py runs: about 300 MB under tools/onnx/node_modules).
set -eu
pkgs="build-essential cmake pkg-config gcc clang
  libopenblas-dev zlib1g-dev libcmocka-dev
  ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo
  libvulkan-dev mesa-vulkan-drivers glslc glslang-tools vulkan-validationlayers vulkan-tools
  libpng-dev libtiff-dev libcjson-dev python3 python3-numpy
  libopenmpi-dev openmpi-bin"
if [ "${GLIA_DEPS_NO_INTEROP:-0}" != 1 ]; then
  pkgs="$pkgs python3-torch python3-nibabel mricron-data"
  # by command, not package: a node from elsewhere (NodeSource bundles npm) conflicts with Debian's npm
  command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
  command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi
[ "${GLIA_DEPS_NO_INTEROP:-0}" = 1 ] && exit 0
# onnxruntime-node at the version tools/onnx/package.json pins; --ignore-scripts: its
# install script only fetches GPU providers the CPU benchmark does not use
onnx="$(dirname "$0")/../tools/onnx"
grep -q '"version": "1.31.1"' "$onnx/node_modules/onnxruntime-node/package.json" 2>/dev/null && exit 0
npm install --ignore-scripts --no-audit --no-fund --prefix "$onnx"
