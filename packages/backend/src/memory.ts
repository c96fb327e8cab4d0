// How much memory the chosen backend's tensors may use, so a trainer can size its micro-batches from the
// device instead of a preset. WebGPU does not report a GPU's memory: on NVIDIA it comes from nvidia-smi;
// a software adapter's buffers live in host memory. Host backends get the host's available memory
// (MemAvailable), wasm at most its 4 GiB heap.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { WebGPUAdapterReport } from './webgpu/adapter.js';

export interface DeviceMemory {
  /** Bytes the backend's tensors can use; undefined when the device does not say (a non-NVIDIA GPU). */
  bytes?: number;
  /** The largest single tensor the backend binds (webgpu: the adapter's maxStorageBufferBindingSize). */
  maxTensorBytes?: number;
  /** Where the figures come from, in words. */
  source: string;
}

const GiB = 1024 ** 3;
const WASM32_HEAP = 4 * GiB;

/** MemAvailable from /proc/meminfo (free plus reclaimable cache), else os.freemem(). */
export function availableHostMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return freemem();
}

/** Free memory of the first visible NVIDIA GPU (nvidia-smi), or undefined without one. */
export function nvidiaFreeMemory(): { bytes: number; name: string } | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.free,name', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [free, name] = out.split('\n')[0]!.split(',').map((s) => s.trim());
    const mib = Number(free);
    return Number.isFinite(mib) && mib > 0 ? { bytes: mib * 1024 * 1024, name: name ?? 'NVIDIA GPU' } : undefined;
  } catch {
    return undefined;
  }
}

/** The memory of backend `name` (with its webgpu adapter, if any). */
export function deviceMemory(info: { name: string; adapter?: WebGPUAdapterReport }): DeviceMemory {
  const host = availableHostMemory();
  const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
  if (info.name === 'webgpu' && info.adapter) {
    const maxTensorBytes = info.adapter.limits.maxStorageBufferBindingSize;
    if (info.adapter.software) return { bytes: host, maxTensorBytes, source: `host memory available (${gib(host)}; a software adapter's buffers are host memory)` };
    const gpu = nvidiaFreeMemory();
    if (gpu) return { bytes: gpu.bytes, maxTensorBytes, source: `${gpu.name}: ${gib(gpu.bytes)} free (nvidia-smi)` };
    return { maxTensorBytes, source: `${info.adapter.description || info.adapter.vendor}: WebGPU does not report GPU memory and nvidia-smi gave none` };
  }
  if (info.name === 'tensorflow-gpu') {
    const gpu = nvidiaFreeMemory();
    return gpu ? { bytes: gpu.bytes, source: `${gpu.name}: ${gib(gpu.bytes)} free (nvidia-smi)` } : { source: 'tensorflow-gpu: nvidia-smi gave no GPU memory' };
  }
  if (info.name === 'wasm') {
    const bytes = Math.min(WASM32_HEAP, host);
    return { bytes, source: `wasm32 heap: ${gib(bytes)} (4 GiB at most, host memory available ${gib(host)})` };
  }
  return { bytes: host, source: `host memory available (${gib(host)})` };
}
