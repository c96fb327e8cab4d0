// Starting the `native` backend for initBackend: needs the addon, built with its TypedArray kernels.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { loadNativeAddon } from '../native.js';
import { NATIVE_BACKEND_NAME } from './backend.js';
import { registerNativeBackend } from './register.js';
import type { Attempt } from '../select.js';
import { TRAINING_KERNELS } from './training-kernels.js';

const require = createRequire(import.meta.url);

function cpuVersion(): string {
  try {
    return (require('@tensorflow/tfjs-backend-cpu/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

export async function tryNativeBackend(threads: number | undefined): Promise<Attempt> {
  const status = loadNativeAddon();
  if (!status.loaded) return { ok: false, why: `native: addon ${status.why}` };
  const addon = status.addon;
  if (typeof addon.tensors !== 'object') {
    return { ok: false, why: 'native: the addon was built before the native backend existed; rebuild it (`npm run build:native -w @sparse-ift/backend`)' };
  }
  if (threads !== undefined) addon.setThreads(threads);
  const registration = registerNativeBackend(addon);
  let ok = false;
  try {
    ok = await tf.setBackend(NATIVE_BACKEND_NAME);
  } catch (e) {
    return { ok: false, why: `native: setBackend('native') threw: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!ok || tf.getBackend() !== NATIVE_BACKEND_NAME) return { ok: false, why: "native: setBackend('native') returned false" };
  const n = addon.threads();
  const covered = new Set([...registration.nativeKernels, ...registration.sharedKernels]);
  const coverage = {
    native: registration.nativeKernels,
    shared: registration.sharedKernels,
    trainingFallbacks: TRAINING_KERNELS.filter((k) => !covered.has(k)),
    trainingKernels: TRAINING_KERNELS.length,
  };
  return {
    ok: true,
    why: 'native initialised',
    threads: n,
    native: true,
    provenance: registration.provenance,
    coverage,
    kernels:
      `sparse-ift native backend: ${addon.tensors.description()} (${n} thread${n === 1 ? '' : 's'}; ` +
      `${registration.nativeKernels.length} native kernels) + tfjs-backend-cpu ${cpuVersion()} JS kernels for the rest, on the same memory`,
  };
}
