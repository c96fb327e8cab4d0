// What `sift doctor` says about each GPU path: WebGPU (Dawn) adapters found, or why none and the fix;
// tfjs-node-gpu and the CUDA / cuDNN versions its libtensorflow needs.
import { execFileSync } from 'node:child_process';
import { probeAdapters, type WebGPUAdapterReport } from './webgpu/adapter.js';
import { dawnPackageDir } from './webgpu/dawn.js';
import { explainMissingGpu, findVulkanDrivers, findVulkanLoader, nvidiaInfo } from './webgpu/diagnose.js';

export interface GpuPathReport {
  path: 'webgpu' | 'tensorflow-gpu';
  /** A GPU (not a software renderer) can run training on this path. */
  usable: boolean;
  /** Facts found, one per line. */
  lines: string[];
  /** What is missing and how to fix it. */
  fixes: string[];
  adapters?: WebGPUAdapterReport[];
}

/** tfjs-node-gpu 4.22 binds libtensorflow 2.9.1, built against these (TensorFlow's tested build configurations). */
export const TFJS_NODE_GPU_NEEDS =
  '@tensorflow/tfjs-node-gpu 4.22 runs libtensorflow 2.9.1, built for CUDA 11.2 and cuDNN 8.1 (it loads libcudart.so.11.0 and libcudnn.so.8): ' +
  'a CUDA 12 or 13 toolkit alone does not satisfy it, it has no kernels built for Hopper (sm_90) GPUs, and its install downloads ' +
  'libtensorflow from outside npm (it fails offline). Where that does not hold, use --backend webgpu.';

function sharedLibrary(name: string): string | undefined {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/sbin:/usr/sbin` } });
    return out.split('\n').find((l) => l.trim().startsWith(name))?.split('=>')[1]?.trim();
  } catch {
    return undefined;
  }
}

export async function webgpuPath(): Promise<GpuPathReport> {
  const lines: string[] = [];
  const dir = dawnPackageDir();
  if (!dir) return { path: 'webgpu', usable: false, lines: ['the `webgpu` package (Dawn) is not installed'], fixes: ['`npm i webgpu` (its binary ships inside the npm package)'] };
  lines.push(`Dawn: ${dir}`);
  lines.push(`Vulkan loader: ${findVulkanLoader() ?? 'not found'}`);
  const drivers = findVulkanDrivers();
  lines.push(`Vulkan drivers: ${drivers.length ? drivers.map((d) => `${d.manifest}${d.software ? ' (software)' : ''}`).join(', ') : 'none'}`);
  const nv = nvidiaInfo();
  if (nv.driver) lines.push(`NVIDIA driver: ${nv.driver}${nv.containerCapabilities !== undefined ? `; NVIDIA_DRIVER_CAPABILITIES=${nv.containerCapabilities}` : ''}`);
  const probes = await probeAdapters();
  const adapters: WebGPUAdapterReport[] = [];
  for (const p of probes) {
    lines.push(`adapter: ${p.why}`);
    if (p.adapter) adapters.push(p.adapter);
  }
  const usable = adapters.some((a) => !a.software);
  const fixes = usable ? [] : explainMissingGpu();
  if (!usable && adapters.some((a) => a.software)) {
    fixes.push('a software adapter works: `--backend webgpu` trains on it (slowly: CI uses it for correctness); `auto` never picks it');
  }
  return { path: 'webgpu', usable, lines, fixes, adapters };
}

export async function tensorflowGpuPath(): Promise<GpuPathReport> {
  const lines: string[] = [];
  const fixes: string[] = [];
  const cudart = sharedLibrary('libcudart.so.11.0');
  const cudnn = sharedLibrary('libcudnn.so.8');
  lines.push(`libcudart.so.11.0 (CUDA 11.x runtime): ${cudart ?? 'not found'}; libcudnn.so.8 (cuDNN 8): ${cudnn ?? 'not found'}`);
  try {
    const specifier: string = '@tensorflow/tfjs-node-gpu';
    await import(specifier);
    lines.push('@tensorflow/tfjs-node-gpu loads');
    return { path: 'tensorflow-gpu', usable: true, lines, fixes };
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]!;
    lines.push(/Cannot find (package|module)/.test(message) ? '@tensorflow/tfjs-node-gpu is not installed' : `@tensorflow/tfjs-node-gpu fails to load: ${message}`);
    fixes.push(TFJS_NODE_GPU_NEEDS);
    return { path: 'tensorflow-gpu', usable: false, lines, fixes };
  }
}
