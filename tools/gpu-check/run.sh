#!/usr/bin/env bash
# Runs the GPU check where prepare.sh's .cache was carried: a machine with an NVIDIA GPU, PyTorch, and no
# Node or network (README.md gives the device command). Arguments go to check.mjs; without a GPU, pass
# --dry-run --allow-software to check the packaging on the software adapter.
set -euo pipefail
cd "$(dirname "$0")"
cache=$(pwd)/.cache
[ -f "$cache/check.mjs" ] || { echo "gpu-check: $cache/check.mjs missing: run tools/gpu-check/prepare.sh first (and carry tools/gpu-check/.cache)" >&2; exit 2; }
python=${PYTHON:-python3}

# The Vulkan loader and GL dispatch libraries, on an NVIDIA machine that lacks them (unpacked into /:
# root only, as the device notes prescribe; never on a machine without NVIDIA's driver).
if [ -e /dev/nvidiactl ] && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  if [ "$(id -u)" = 0 ]; then
    for f in "$cache"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    echo "gpu-check: no Vulkan loader and not root: unpack $cache/debs/*.deb and set LD_LIBRARY_PATH" >&2
  fi
fi
# NVIDIA's Vulkan manifest where the container runtime mounts the driver, if the loader would not find it.
nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nv" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$nv
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi

# Decompress node and Dawn (Python's lzma: the GPU image has Python, not necessarily xz).
work=${TMPDIR:-/tmp}/sift-gpu-check
mkdir -p "$work"
"$python" - "$cache" "$work" <<'PY'
import lzma, os, shutil, sys
cache, work = sys.argv[1], sys.argv[2]
def unxz(src, dst, mode):
    if not os.path.exists(dst):
        with lzma.open(src) as f, open(dst + ".part", "wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
        os.chmod(dst + ".part", mode)
        os.replace(dst + ".part", dst)
unxz(os.path.join(cache, "node.xz"), os.path.join(work, "node"), 0o755)
dawn = os.path.join(cache, "node_modules/webgpu/dist/linux-x64/dawn.node")
unxz(dawn + ".xz", dawn, 0o644)
PY

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
export PYTHON=$python
exec "$work/node" "$cache/check.mjs" "$@"
