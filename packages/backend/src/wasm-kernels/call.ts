// Calling wasm backend kernels from inside another kernel (no tape, no engine bookkeeping: the
// intermediates are TensorInfos the caller disposes).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './heap.js';

/** Kernels of tfjs-backend-wasm replaced by this package, kept so the replacement can fall back on them. */
const originals = new Map<string, KernelConfig>();

export function saveOriginal(kernelName: string): KernelConfig | undefined {
  const existing = originals.get(kernelName);
  if (existing) return existing;
  const config = tf.getKernel(kernelName, 'wasm');
  if (config) originals.set(kernelName, config);
  return config;
}

export function original(kernelName: string): KernelConfig;
export function original(kernelName: string, optional: true): KernelConfig | undefined;
export function original(kernelName: string, optional = false): KernelConfig | undefined {
  const config = originals.get(kernelName);
  if (!config && optional) return undefined;
  if (!config) throw new Error(`internal: original wasm kernel ${kernelName} was not saved before replacement`);
  return config;
}

export function runWasmKernel(
  kernelName: string,
  backend: WasmBackend,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = originals.get(kernelName) ?? tf.getKernel(kernelName, 'wasm');
  if (!config) throw new Error(`wasm kernel ${kernelName} is not registered (is @tensorflow/tfjs-backend-wasm imported?)`);
  const out = config.kernelFunc({ inputs, attrs, backend: backend as unknown as tf.KernelBackend });
  return Array.isArray(out) ? out[0]! : out;
}

export function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}
