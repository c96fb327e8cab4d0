// Registers the `native` backend with tf.js: every tfjs-backend-cpu kernel (the fallbacks, counted as
// such), then this package's native kernels over them.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND_NAME, NativeBackend, type LayoutTranspose } from './backend.js';
import { fallbackConfig, nativeConfig, type KernelContext, type NativeKernel } from './kernel.js';
import { KernelProvenance } from './provenance.js';
import { NATIVE_KERNELS } from './kernels/index.js';
import { usePool } from './memory.js';
import type { NativeAddon } from '../native.js';

export interface NativeBackendRegistration {
  provenance: KernelProvenance;
  /** Kernel names with a native implementation (some decline inputs they do not handle). */
  nativeKernels: string[];
  /** Kernel names that only relabel their input's data. */
  sharedKernels: string[];
}

let registration: NativeBackendRegistration | undefined;
let context: KernelContext | undefined;

/**
 * Register the `native` backend (idempotent; the first addon wins). The backend's priority is below
 * every stock backend's so that importing this package never changes tf.js' own default; `initBackend`
 * selects it explicitly.
 */
export function registerNativeBackend(addon: NativeAddon): NativeBackendRegistration {
  if (registration) return registration;
  usePool(addon.tensors);
  const provenance = new KernelProvenance();
  const ctx: KernelContext = { addon, provenance };
  const own = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  for (const cpu of tf.getKernelsForBackend('cpu')) {
    if (!own.has(cpu.kernelName)) tf.registerKernel(fallbackConfig(cpu, ctx));
  }
  for (const kernel of NATIVE_KERNELS) tf.registerKernel(nativeConfig(kernel, ctx));
  const transpose = (addon as unknown as { sparseTranspose?: LayoutTranspose }).sparseTranspose;
  tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(transpose ? transpose.bind(addon) : undefined), -1);
  const byRoute = (route: NativeKernel['route']) => NATIVE_KERNELS.filter((k) => (k.route ?? 'native') === route).map((k) => k.kernelName).sort();
  registration = { provenance, nativeKernels: byRoute('native'), sharedKernels: byRoute('shared') };
  context = ctx;
  return registration;
}

/**
 * Add (or replace) a kernel of the native backend, e.g. a sparse convolution: counted in the provenance,
 * declining to tfjs-backend-cpu's kernel of the same name when there is one. The backend must be registered
 * (`initBackend({ backend: 'native' })`). Per-tensor state goes in `backend.sideData`.
 */
export function registerNativeKernel(kernel: NativeKernel): void {
  if (!registration || !context) throw new Error(`native backend: cannot register ${kernel.kernelName} before the backend (initBackend({ backend: 'native' }))`);
  if (tf.getKernel(kernel.kernelName, NATIVE_BACKEND_NAME)) tf.unregisterKernel(kernel.kernelName, NATIVE_BACKEND_NAME);
  tf.registerKernel(nativeConfig(kernel, context));
  const list = (kernel.route ?? 'native') === 'shared' ? registration.sharedKernels : registration.nativeKernels;
  if (!list.includes(kernel.kernelName)) list.push(kernel.kernelName);
}

export function nativeBackendRegistration(): NativeBackendRegistration | undefined {
  return registration;
}
