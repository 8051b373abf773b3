#!/bin/sh
# Installs every Debian 12 package glia needs to build and test. Idempotent; run as root.
# Set GLIA_DEPS_NO_INTEROP=1 to skip the large PyTorch/nibabel packages used by interop tests.
set -eu
pkgs="build-essential cmake pkg-config gcc clang
  libopenblas-dev zlib1g-dev libcmocka-dev
  ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo
  libvulkan-dev mesa-vulkan-drivers glslc glslang-tools vulkan-validationlayers vulkan-tools
  libpng-dev libtiff-dev libcjson-dev python3 python3-numpy
  libopenmpi-dev openmpi-bin"
if [ "${GLIA_DEPS_NO_INTEROP:-0}" != 1 ]; then
  pkgs="$pkgs python3-torch python3-nibabel mricron-data"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
