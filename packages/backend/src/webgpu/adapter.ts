// Finding a WebGPU adapter through Dawn: a real GPU first (Dawn's default backend: Vulkan on Linux), then,
// only when the caller allows it, a software one (lavapipe through Vulkan, or llvmpipe through OpenGL ES
// with EGL's surfaceless platform: Debian's stock libegl1/libegl-mesa0/libgles2 suffice).
import { loadDawn } from './dawn.js';
import { findVulkanLoader } from './diagnose.js';

/** What every results file records about the adapter (through BackendInfo.adapter). */
export interface WebGPUAdapterReport {
  /** Dawn's backend: vulkan, opengles, metal, d3d12… */
  dawnBackend: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU renderer (llvmpipe, lavapipe, SwiftShader…), not a GPU. */
  software: boolean;
  /** 'compatibility' on OpenGL ES (WebGPU's reduced feature level), else 'core'. */
  featureLevel: 'core' | 'compatibility';
  /** The limits that decide which shapes run (bytes, or counts). */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
  };
}

export interface FoundAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  report: WebGPUAdapterReport;
}

interface Candidate {
  /** Flags for Dawn's `create` (its node binding's options). */
  flags: string[];
  featureLevel: 'core' | 'compatibility';
  dawnBackend: string;
  /** What this candidate is for, in messages. */
  label: string;
}

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|software|null-backend|basic render/i;

export function isSoftwareAdapter(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'> & { isFallbackAdapter?: boolean }): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_RENDERERS.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/** Human name of an adapter, e.g. "nvidia hopper (NVIDIA H200) via vulkan" or "software: llvmpipe … via opengles". */
export function adapterName(r: WebGPUAdapterReport): string {
  const what = [r.vendor, r.architecture].filter((s) => s !== '').join(' ');
  const device = r.device || r.description || 'unnamed adapter';
  return `${r.software ? 'software adapter: ' : ''}${what ? `${what} ` : ''}(${device}) via ${r.dawnBackend}${r.featureLevel === 'compatibility' ? ' (compatibility)' : ''}`;
}

function reportOf(adapter: GPUAdapter, c: Candidate): WebGPUAdapterReport {
  const info = (adapter as GPUAdapter & { info: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const l = adapter.limits;
  return {
    dawnBackend: c.dawnBackend,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info),
    featureLevel: c.featureLevel,
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  };
}

const GPU_CANDIDATE: Candidate = { flags: [], featureLevel: 'core', dawnBackend: 'vulkan', label: 'GPU (Dawn default backend)' };
const SOFTWARE_CANDIDATES: readonly Candidate[] = [
  { flags: ['backend=vulkan'], featureLevel: 'core', dawnBackend: 'vulkan', label: 'software Vulkan (lavapipe)' },
  { flags: ['backend=opengles'], featureLevel: 'compatibility', dawnBackend: 'opengles', label: 'software OpenGL ES (llvmpipe, EGL surfaceless)' },
];

export interface AdapterSearch {
  /** The adapter chosen, if any. */
  found?: FoundAdapter;
  /** One line per candidate tried: what it gave, or why not. */
  tried: string[];
}

async function tryCandidate(c: Candidate): Promise<{ found?: FoundAdapter; why: string }> {
  const vulkan = c.dawnBackend === 'vulkan' ? findVulkanLoader() : undefined;
  if (c.dawnBackend === 'vulkan' && !vulkan) {
    return { why: `${c.label}: no Vulkan loader (libvulkan.so.1) on this machine` };
  }
  // EGL picks its platform from the environment; without a display, only 'surfaceless' works.
  if (c.dawnBackend === 'opengles' && process.env['EGL_PLATFORM'] === undefined) process.env['EGL_PLATFORM'] = 'surfaceless';
  const dawn = await loadDawn();
  let gpu: GPU;
  try {
    gpu = dawn.create(c.flags);
  } catch (e) {
    return { why: `${c.label}: Dawn refused (${(e as Error).message.split('\n')[0]})` };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: c.featureLevel } as GPURequestAdapterOptions);
  } catch (e) {
    return { why: `${c.label}: requestAdapter threw (${(e as Error).message.split('\n')[0]})` };
  }
  if (!adapter) return { why: `${c.label}: no adapter` };
  const report = reportOf(adapter, c);
  return { found: { gpu, adapter, report }, why: `${c.label}: ${adapterName(report)}` };
}

/**
 * Look for an adapter: a GPU first; a software one only when `allowSoftware`. A software adapter found
 * where a GPU was looked for (lavapipe is a Vulkan driver too) is skipped unless allowed.
 */
export async function findAdapter(allowSoftware: boolean): Promise<AdapterSearch> {
  const tried: string[] = [];
  const gpu = await tryCandidate(GPU_CANDIDATE);
  if (gpu.found && !gpu.found.report.software) return { found: gpu.found, tried: [gpu.why] };
  tried.push(gpu.found ? `${gpu.why} (skipped: a software renderer, not a GPU)` : gpu.why);
  if (!allowSoftware) return { tried };
  for (const c of SOFTWARE_CANDIDATES) {
    const r = await tryCandidate(c);
    if (r.found && r.found.report.software) return { found: r.found, tried: [...tried, r.why] };
    tried.push(r.found ? `${r.why} (not a software renderer: skipped here)` : r.why);
  }
  return { tried };
}

/** Every candidate, GPU and software, with what it gave: for `sift doctor`. */
export async function probeAdapters(): Promise<{ label: string; adapter?: WebGPUAdapterReport; why: string }[]> {
  const out: { label: string; adapter?: WebGPUAdapterReport; why: string }[] = [];
  for (const c of [GPU_CANDIDATE, ...SOFTWARE_CANDIDATES]) {
    const r = await tryCandidate(c);
    out.push({ label: c.label, why: r.why, ...(r.found ? { adapter: r.found.report } : {}) });
  }
  return out;
}
