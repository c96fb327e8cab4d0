/**
 * Core's own kernels (dropout, mask selection) run on any backend: a backend may register a kernel of its
 * own (`@sparse-ift/backend` does for webgpu); where none is registered, the op registers its host kernel,
 * the JavaScript reference reading and writing through the backend's `readSync` / `write`. That is free
 * where tensors live in host memory (cpu, wasm, tfjs-node) and a round trip where they do not.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** Registers `kernelFunc` as `kernelName` for `backendName` (default: the current one) unless it has one. */
export function registerHostKernel(kernelName: string, kernelFunc: KernelFunc, backendName: string = tf.getBackend()): void {
  if (tf.getKernel(kernelName, backendName)) return;
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

/** The values of `t` as the backend holds them (a copy on backends that do not keep host memory). */
export function readValues(backend: unknown, t: TensorInfo): BackendValues {
  return (backend as KernelBackend).readSync(t.dataId);
}

/** A new float32 tensor of `shape` on the backend, holding `values`. */
export function writeFloat32(backend: unknown, values: Float32Array, shape: number[]): TensorInfo {
  return { dataId: (backend as KernelBackend).write(values, shape, 'float32'), shape, dtype: 'float32' };
}
