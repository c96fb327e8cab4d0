// Registers this project's training kernels for the wasm backend (idempotent). Replaced kernels are
// unregistered first; kernels registered after the wasm backend initialised get their setup run here
// (tf.js only runs setupFunc at backend initialisation).
import * as tf from '@tensorflow/tfjs-core';
// Training needs the gradients (the @tensorflow/tfjs umbrella registers them; tfjs-core alone does not).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { saveOriginal } from './call.js';
import { batchMatMulConfig } from './matmul.js';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv2d.js';
import { avgPoolGradConfig, avgPoolGradCpuConfig, maxPoolGradConfig } from './pooling.js';
import { registerTrainingGradients } from './gradients.js';
import { unsortedSegmentSumConfig } from './segment-sum.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise.js';

export interface RegisteredKernels {
  /** Kernels of tfjs-backend-wasm replaced by faster or correct ones. */
  replaced: string[];
  /** Kernels tfjs-backend-wasm lacks, added. */
  added: string[];
  /** Gradients (all backends) replaced to fix tf.js bugs. */
  gradients: string[];
}

export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  batchMatMulConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  unsortedSegmentSumConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
];

let registered: RegisteredKernels | undefined;

export function registerWasmTrainingKernels(): RegisteredKernels {
  if (registered) return registered;
  const result: RegisteredKernels = { replaced: [], added: [], gradients: [...registerTrainingGradients()] };
  // Kernels used inside ours (Transpose, Conv2D, Slice) must have their own setup run first: they do
  // at backend initialisation, which happens after this when called before setBackend('wasm').
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = saveOriginal(config.kernelName);
    if (existing) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      result.replaced.push(config.kernelName);
    } else {
      result.added.push(config.kernelName);
    }
    tf.registerKernel(config);
  }
  // The cpu backend's AvgPoolGrad has the same border bug: fix it too so cpu and wasm agree.
  if (tf.getKernel(tf.AvgPoolGrad, 'cpu')) {
    tf.unregisterKernel(tf.AvgPoolGrad, 'cpu');
    tf.registerKernel(avgPoolGradCpuConfig);
    result.gradients.push('AvgPoolGrad (cpu, border windows)');
  }
  const initialised = tf.engine().registry['wasm'];
  if (initialised) {
    for (const config of WASM_TRAINING_KERNELS) config.setupFunc?.(initialised);
  }
  registered = result;
  return result;
}

export function wasmKernelsProvenance(r: RegisteredKernels): string {
  return `sparse-ift wasm training kernels (replaced: ${r.replaced.join(', ')}; added: ${r.added.join(', ')}; gradients: ${r.gradients.join(', ')})`;
}
