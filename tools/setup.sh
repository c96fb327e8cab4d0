#!/usr/bin/env bash
# Sets up a fresh checkout: Debian packages (Fashion-MNIST data, BLAS/oneDNN for the optional native
# kernels, Mesa's EGL/OpenGL ES and llvmpipe for the software WebGPU adapter the webgpu tests run on,
# PyTorch for the benchmark's reference), npm dependencies, the TypeScript build and, where a compiler
# and BLAS are present, the native kernels. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(dataset-fashion-mnist libopenblas-dev libdnnl-dev)
# The software WebGPU adapter: Dawn's OpenGL ES backend on Mesa's llvmpipe through EGL's surfaceless
# platform (stock Debian 12 packages; its lavapipe Vulkan driver, Mesa 22, is refused by Dawn).
apt_packages+=(libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)
[ "${SIFT_WITH_TORCH:-0}" = 1 ] && apt_packages+=(python3-torch)
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    missing=()
    for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "setup: installing Debian packages: ${missing[*]}"
      $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
        || echo "setup: warning: apt-get could not install ${missing[*]}; Fashion-MNIST then needs --data DIR or a download"
    fi
  else
    echo "setup: not root and no sudo: skipping Debian packages (${apt_packages[*]})"
  fi
fi

# `npm install` (not `npm ci`): it installs the locked versions too, but tolerates optional per-platform
# packages that a registry mirror lacks (nx's non-Linux binaries are absent from some mirrors, and then no
# lockfile can list them, which `npm ci` refuses).
npm install --no-audit --no-fund
npm run build
# Optional native kernels (oneDNN convolutions, OpenBLAS GEMMs, OpenMP batch norm). npm builds them at
# install when it runs the backend's install script; build them here when it did not (e.g. install
# scripts disabled). The project trains on wasm alone when this fails; `sift doctor` says which path runs.
if ! ls packages/backend/native/build/Release/*.node >/dev/null 2>&1; then
  npm run build:native -w @sparse-ift/backend || echo "setup: native kernels not built (training uses the wasm kernels)"
fi
