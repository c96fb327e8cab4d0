// Backend selection: pick the fastest tf.js backend that is installed AND actually initialises.
// `auto` order: webgpu on a GPU adapter (never a software one) -> tfjs-node-gpu -> native (this package's
// addon, when built) -> tfjs-node -> wasm (+ this
// project's training kernels) -> cpu.
// tf.setBackend() returns false on failure and silently leaves the previous backend active, so every
// step below checks its result and tf.getBackend() afterwards.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// Loaded first, so that this package's fixes to cpu kernels are registered after (and win over) its own.
import '@tensorflow/tfjs-backend-cpu';

import { registerWasmTrainingKernels, wasmKernelsProvenance } from './wasm-kernels/register.js';
import { loadNativeAddon, type NativeStatus } from './native.js';
import { setNativeKernels } from './wasm-kernels/native-kernels.js';
import { startWebGPU } from './webgpu/init.js';
import { adapterName, type WebGPUAdapterReport } from './webgpu/adapter.js';
import { tryNativeBackend } from './native-backend/select-native.js';
import type { KernelProvenance } from './native-backend/provenance.js';
import { deviceMemory, type DeviceMemory } from './memory.js';

export type BackendName = 'webgpu' | 'tensorflow-gpu' | 'native' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  requested: BackendName | 'auto';
  /** Why this backend was chosen, in a few words; the faster backends `auto` passed over are named, their reasons are in `unavailable`. */
  reason: string;
  /** The backends tried before this one, each with why it could not be used (said once, here). */
  unavailable: { backend: BackendName; why: string }[];
  /** Threads the backend's heavy kernels run on. */
  threads: number;
  /** Provenance of the kernels, e.g. "tfjs-backend-wasm 4.22 + sparse-ift wasm gradients + native openblas". */
  kernels: string;
  /** True when the optional native addon runs the heavy kernels. */
  native: boolean;
  versions: Record<string, string>;
  /** webgpu: the adapter (vendor, architecture, limits; `software` for a CPU renderer). */
  adapter?: WebGPUAdapterReport;
  /** The memory its tensors may use at start (what micro-batch sizes are chosen from). */
  memory: DeviceMemory;
  /**
   * `native` backend only: which kernels ran native and which fell back to JS, counted as they run. Live:
   * its toJSON takes a snapshot, so a results file written at the end of a run lists that run's kernels.
   */
  provenance?: KernelProvenance;
  /** `native` backend only: which kernels it implements, and how the zoo's training kernels are covered. */
  coverage?: KernelCoverage;
}

export interface KernelCoverage {
  /** Kernels with a native implementation (each may still decline an input it does not handle). */
  native: string[];
  /** Kernels that only relabel their input's data. */
  shared: string[];
  /** TRAINING_KERNELS (the zoo's training steps) without a native or data-sharing kernel: they run JS. */
  trainingFallbacks: string[];
  trainingKernels: number;
}

export interface InitBackendOptions {
  /** Backend to use; `auto` (default) picks the best one available. */
  backend?: BackendName | 'auto';
  /** The caller will train: refuse the (very slow) `cpu` backend unless `allowCpuTraining`. */
  training?: boolean;
  allowCpuTraining?: boolean;
  /** Use the native addon when it is built (default true). Set false to measure wasm alone. */
  useNative?: boolean;
  /**
   * webgpu: accept a software adapter (llvmpipe, lavapipe) when no GPU adapter is found. Default: only
   * when `backend: 'webgpu'` is asked for by name; `auto` never trains on one.
   */
  allowSoftwareAdapter?: boolean;
  /** Progress lines (what was tried and why it failed). */
  log?: (line: string) => void;
  /** Threads of the native kernels (default: every core the process may use). */
  threads?: number;
}

export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'tensorflow-gpu', 'native', 'tensorflow', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Directory of the installed @tensorflow/tfjs-backend-wasm dist/ (holds the .wasm binaries). */
export function wasmBinaryDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

export interface Attempt {
  ok: boolean;
  why: string;
  threads?: number;
  kernels?: string;
  native?: boolean;
  adapter?: WebGPUAdapterReport;
  provenance?: KernelProvenance;
  coverage?: KernelCoverage;
}

// tfjs-node and tfjs-node-gpu both register a backend called 'tensorflow'. The specifier is held in a
// variable so TypeScript does not try to resolve these optional packages at compile time.
async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<Attempt> {
  try {
    const specifier: string = pkg;
    await import(specifier);
  } catch (e) {
    // Not installed: Node's "Cannot find package … imported from <this file>" would add nothing but this machine's paths.
    if (packageVersion(pkg) === undefined) return { ok: false, why: `${pkg} not installed; add it with \`npm i ${pkg}\`` };
    return { ok: false, why: `${pkg} is installed but fails to load (${errorText(e)})` };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return {
      ok: false,
      why: `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs-core (duplicate tfjs-core? run \`npm ls @tensorflow/tfjs-core\`)`,
    };
  }
  let ok = false;
  try {
    ok = await tf.setBackend('tensorflow');
  } catch (e) {
    return { ok: false, why: `${pkg}: setBackend('tensorflow') threw: ${errorText(e)}` };
  }
  if (!ok || tf.getBackend() !== 'tensorflow') return { ok: false, why: `${pkg}: setBackend('tensorflow') returned false` };
  return { ok: true, why: `${pkg} initialised`, threads: 0, kernels: `${pkg} ${packageVersion(pkg) ?? '?'} (libtensorflow)` };
}

let wasmPathsSet = false;

async function tryWasm(useNative: boolean, threads: number | undefined, log: (line: string) => void): Promise<Attempt> {
  let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm not importable (${errorText(e)}); run \`npm i @tensorflow/tfjs-backend-wasm\`` };
  }
  // Bundlers/ESM entry points do not always find the .wasm next to the JS: point at the installed dist/.
  if (!wasmPathsSet && tf.engine().registry['wasm'] == null) {
    try {
      wasmModule.setWasmPaths(wasmBinaryDir());
      wasmPathsSet = true;
    } catch (e) {
      log(`wasm: could not set wasm paths (${errorText(e)}); using the package default`);
    }
  }
  const kernels = registerWasmTrainingKernels();
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    return { ok: false, why: `wasm: setBackend('wasm') threw: ${errorText(e)}` };
  }
  if (!ok || tf.getBackend() !== 'wasm') {
    return { ok: false, why: "wasm: setBackend('wasm') returned false (the .wasm binary failed to load or compile)" };
  }
  const wasmThreads = wasmModule.getThreadsCount();
  const native: NativeStatus = useNative ? loadNativeAddon() : { loaded: false, why: 'disabled (useNative: false)' };
  if (!native.loaded) log(`native addon: ${native.why}`);
  if (native.loaded && threads !== undefined) native.addon.setThreads(threads);
  setNativeKernels(native.loaded ? native.addon : undefined);
  const provenance = [
    `tfjs-backend-wasm ${packageVersion('@tensorflow/tfjs-backend-wasm') ?? '?'} (${wasmThreads} thread${wasmThreads === 1 ? '' : 's'})`,
    wasmKernelsProvenance(kernels),
  ];
  if (native.loaded) provenance.push(`native ${native.library} (${native.addon.threads()} threads)`);
  return {
    ok: true,
    why: 'wasm initialised',
    threads: native.loaded ? native.addon.threads() : wasmThreads,
    kernels: provenance.join(' + '),
    native: native.loaded,
  };
}

async function tryCpu(): Promise<Attempt> {
  await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  if (!ok || tf.getBackend() !== 'cpu') return { ok: false, why: "cpu: setBackend('cpu') returned false" };
  return { ok: true, why: 'cpu initialised', threads: 1, kernels: `tfjs-backend-cpu ${packageVersion('@tensorflow/tfjs-backend-cpu') ?? '?'} (plain JS)` };
}

async function tryWebGPU(allowSoftware: boolean, log: (line: string) => void): Promise<Attempt> {
  const r = await startWebGPU(allowSoftware);
  for (const line of r.tried) log(`webgpu adapter: ${line}`);
  if (!r.ok || !r.adapter) return { ok: false, why: r.why };
  const v = (pkg: string) => packageVersion(pkg) ?? '?';
  return {
    ok: true,
    why: r.why,
    threads: 0,
    kernels: `tfjs-backend-webgpu ${v('@tensorflow/tfjs-backend-webgpu')} on Dawn (webgpu ${v('webgpu')}) + sparse-ift WGSL fused batch norm, layer norm, GELU`,
    adapter: r.adapter,
  };
}

async function attempt(
  name: BackendName, useNative: boolean, allowSoftware: boolean, threads: number | undefined, log: (line: string) => void,
): Promise<Attempt> {
  switch (name) {
    case 'webgpu':
      return tryWebGPU(allowSoftware, log);
    case 'tensorflow-gpu':
      return tryTfjsNode('@tensorflow/tfjs-node-gpu');
    case 'tensorflow':
      return tryTfjsNode('@tensorflow/tfjs-node');
    case 'native':
      return useNative ? tryNativeBackend(threads) : { ok: false, why: 'native: disabled (useNative: false)' };
    case 'wasm':
      return tryWasm(useNative, threads, log);
    case 'cpu':
      return tryCpu();
  }
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const pkg of [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-cpu',
    '@tensorflow/tfjs-backend-webgpu',
    'webgpu',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
  ]) {
    const v = packageVersion(pkg);
    if (v !== undefined) out[pkg] = v;
  }
  return out;
}

const CPU_TRAINING_REFUSED =
  "refusing to train on the tf.js 'cpu' backend: it is plain JavaScript, ~100-1000x slower than wasm for " +
  'conv/matmul training (a conv training step runs at ~0.02 GFLOP/s), so a run would take days. ' +
  "Install a faster backend (`@tensorflow/tfjs-backend-wasm` ships with this project; `npm i @tensorflow/tfjs-node` " +
  'where a network allows), or pass allowCpuTraining: true (CLI: --allow-cpu-training) to force it.';

/**
 * tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle does (as does the @tensorflow/tfjs
 * umbrella). Load it when nothing has, so training works with tfjs-core + tfjs-layers alone.
 */
async function ensureGradients(log: (line: string) => void): Promise<void> {
  if (tf.getGradient(tf.Conv2D) !== undefined) return;
  try {
    await import('@tensorflow/tfjs-layers');
  } catch (e) {
    log(`gradients: @tensorflow/tfjs-layers not importable (${errorText(e)}); training needs it (npm i @tensorflow/tfjs-layers)`);
  }
}

/**
 * Initialise a tf.js backend for this process and report what was chosen and why.
 * Throws when a forced backend cannot initialise, or when training would run on `cpu` without
 * `allowCpuTraining`.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = opts.backend ?? 'auto';
  const log = opts.log ?? (() => {});
  const useNative = opts.useNative ?? true;
  if (requested !== 'auto' && !BACKEND_NAMES.includes(requested)) {
    throw new Error(`unknown backend '${String(requested)}'; use one of: auto, ${BACKEND_NAMES.join(', ')}`);
  }
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new RangeError(`threads must be a positive integer, got ${String(opts.threads)}`);
  }
  if (opts.training !== false) await ensureGradients(log);
  const candidates: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  const unavailable: BackendInfo['unavailable'] = [];
  const skipped = (): string => unavailable.map((u) => `${u.backend}: ${u.why}`).join('; ');
  for (const name of candidates) {
    if (name === 'cpu' && opts.training && !opts.allowCpuTraining) {
      const before = unavailable.length > 0 ? ` (tried: ${skipped()})` : '';
      throw new Error(CPU_TRAINING_REFUSED + before);
    }
    const result = await attempt(name, useNative, opts.allowSoftwareAdapter ?? requested === 'webgpu', opts.threads, log);
    if (!result.ok) {
      log(`backend ${name}: ${result.why}`);
      unavailable.push({ backend: name, why: result.why });
      continue;
    }
    const reason =
      requested === 'auto'
        ? unavailable.length > 0
          ? `auto: ${unavailable.map((u) => u.backend).join(', ')} unavailable`
          : `auto: ${name} is the fastest available`
        : `forced by --backend ${name}`;
    return {
      name,
      requested,
      reason,
      unavailable,
      threads: result.threads ?? 1,
      kernels: result.kernels ?? name,
      native: result.native ?? false,
      versions: versions(),
      ...(result.adapter ? { adapter: result.adapter } : {}),
      ...(result.provenance ? { provenance: result.provenance } : {}),
      ...(result.coverage ? { coverage: result.coverage } : {}),
      memory: deviceMemory({ name, ...(result.adapter ? { adapter: result.adapter } : {}) }),
    };
  }
  throw new Error(
    `backend '${requested}' could not be initialised: ${skipped()}. ` +
      (requested === 'auto' ? 'Check the @tensorflow/tfjs-backend-* installs.' : 'Try --backend auto.'),
  );
}

/** One line describing the backend, printed at the start of every run and stored in results files. */
export function describeBackend(info: BackendInfo): string {
  const adapter = info.adapter ? ` adapter: ${describeAdapter(info.adapter)} |` : '';
  const threads = info.threads > 0 ? `${info.threads} thread${info.threads === 1 ? '' : 's'}` : 'threads: backend default';
  return (
    `backend: ${info.name} (requested ${info.requested}; ${threads}; native ${info.native ? 'on' : 'off'}) ` +
    `kernels: ${info.kernels} |${adapter} tfjs-core ${info.versions['@tensorflow/tfjs-core'] ?? '?'}, node ${info.versions['node'] ?? '?'} | ${info.reason}`
  );
}

/** The adapter as printed: its name, software or not, and the limits that decide which shapes run. */
export function describeAdapter(a: WebGPUAdapterReport): string {
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  return `${adapterName(a)}; maxStorageBufferBindingSize ${mib(a.limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(a.limits.maxBufferSize)}, ` +
    `workgroup storage ${a.limits.maxComputeWorkgroupStorageSize} B, ${a.limits.maxComputeInvocationsPerWorkgroup} invocations/workgroup`;
}
