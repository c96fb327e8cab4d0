// Starting the `webgpu` tf.js backend: Dawn, an adapter (a GPU, or a software one when allowed), a device
// with the adapter's own limits (WebGPU's defaults are far lower: 128 MiB bindings, 4 storage buffers in
// compatibility mode), tfjs-backend-webgpu's kernels plus this package's, each named in its errors.
import * as tf from '@tensorflow/tfjs-core';
import { setNavigatorGpu } from './dawn.js';
import { adapterName, findAdapter, type WebGPUAdapterReport } from './adapter.js';
import { makeBackendClass, nameWebGPUKernels, type SparseIftWebGPUBackend } from './backend.js';
import { registerWebGPUFusedKernels } from './kernels/register.js';

export interface WebGPUStart {
  ok: boolean;
  why: string;
  adapter?: WebGPUAdapterReport;
  /** What was tried, one line each (printed by the caller's log). */
  tried: string[];
}

let started: WebGPUAdapterReport | undefined;

export async function startWebGPU(allowSoftware: boolean): Promise<WebGPUStart> {
  // A device that had a GPU error is not reused: start a new one.
  if ((tf.findBackend('webgpu') as SparseIftWebGPUBackend | null)?.failure) releaseWebGPU();
  if (started && tf.findBackend('webgpu')) {
    if (started.software && !allowSoftware) return { ok: false, why: `only a software adapter (${adapterName(started)})`, tried: [] };
    const ok = await tf.setBackend('webgpu');
    return ok ? { ok, why: 'webgpu initialised', adapter: started, tried: [] } : { ok, why: "setBackend('webgpu') returned false", tried: [] };
  }
  let search;
  try {
    search = await findAdapter(allowSoftware);
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]!;
    const missing = /Cannot find (package|module) 'webgpu'/.test(message);
    return { ok: false, why: missing ? 'webgpu: the `webgpu` package (Dawn) is not installed: `npm i webgpu`' : `webgpu: Dawn failed to load (${message})`, tried: [] };
  }
  if (!search.found) {
    return {
      ok: false,
      why: `no ${allowSoftware ? '' : 'GPU '}adapter (${search.tried.join('; ')})${allowSoftware ? '' : '; a software adapter is used only with --backend webgpu'}; \`sift doctor\` says why`,
      tried: search.tried,
    };
  }
  const { gpu, adapter, report } = search.found;
  // tfjs-backend-webgpu's constructor checks navigator.gpu; Dawn's instance lives as long as it is set.
  setNavigatorGpu(gpu);
  let mod: typeof import('@tensorflow/tfjs-backend-webgpu');
  try {
    mod = await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    setNavigatorGpu(undefined);
    return { ok: false, why: `@tensorflow/tfjs-backend-webgpu not importable (${(e as Error).message.split('\n')[0]})`, tried: search.tried };
  }
  const Backend = makeBackendClass(mod.WebGPUBackend);
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const device = await adapter.requestDevice({ requiredLimits });
    return new Backend(device, (adapter as GPUAdapter & { info: GPUAdapterInfo }).info, report);
  }, 0);
  registerWebGPUFusedKernels();
  nameWebGPUKernels();
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    return { ok: false, why: `setBackend('webgpu') threw: ${(e as Error).message.split('\n')[0]}`, tried: search.tried };
  }
  if (!ok || tf.getBackend() !== 'webgpu') return { ok: false, why: "setBackend('webgpu') returned false (requestDevice failed)", tried: search.tried };
  started = report;
  return { ok: true, why: 'webgpu initialised', adapter: report, tried: search.tried };
}

/**
 * Disposes the webgpu backend and releases Dawn, so Node can exit (Dawn's instance keeps it running while
 * referenced). Safe to call when webgpu never started.
 */
export function releaseWebGPU(): void {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  setNavigatorGpu(undefined);
  started = undefined;
}
