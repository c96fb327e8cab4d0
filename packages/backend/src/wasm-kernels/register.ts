// Registers this project's training kernels for the wasm backend (idempotent). Replaced kernels are
// unregistered first; kernels registered after the wasm backend initialised get their setup run here
// (tf.js only runs setupFunc at backend initialisation).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { original, saveOriginal } from './call.js';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul.js';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig, conv2DForwardConfig, depthwiseForwardConfig, fusedConv2DForwardConfig, fusedDepthwiseForwardConfig } from './conv2d.js';
import { avgPoolGradConfig, avgPoolGradCpuConfig, maxPoolGradConfig } from './pooling.js';
import { registerTrainingGradients } from './gradients.js';
import { tileConfig } from './tile.js';
import { unsortedSegmentSumConfig } from './segment-sum.js';
import { transposeConfig, unpackConfig } from './transpose.js';
import { sumConfig } from './sum.js';
import { geluConfig, geluGradConfig } from './gelu.js';
import { dropoutConfig } from './dropout.js';
import { castConfig, identityConfig } from './identity.js';
import { layerNormConfig, layerNormGradConfig } from './layer-norm.js';
import { batchNormTrainConfig, batchNormTrainGradConfig } from './batch-norm.js';
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
  fusedMatMulConfig,
  conv2DForwardConfig,
  fusedConv2DForwardConfig,
  depthwiseForwardConfig,
  fusedDepthwiseForwardConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  unsortedSegmentSumConfig,
  tileConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  transposeConfig,
  unpackConfig,
  sumConfig,
  geluConfig,
  geluGradConfig,
  identityConfig,
  castConfig,
  layerNormConfig,
  layerNormGradConfig,
  dropoutConfig,
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
    // A replaced kernel's own setup (its cwrap of the C++ function) must still run: we may fall back on it.
    const setups = [existing?.setupFunc, config.setupFunc].filter((f): f is NonNullable<typeof f> => f != null);
    tf.registerKernel({ ...config, setupFunc: setups.length > 0 ? (b) => setups.forEach((f) => f(b)) : undefined });
  }
  // The cpu backend's AvgPoolGrad has the same border bug: fix it too so cpu and wasm agree.
  if (tf.getKernel(tf.AvgPoolGrad, 'cpu')) {
    tf.unregisterKernel(tf.AvgPoolGrad, 'cpu');
    tf.registerKernel(avgPoolGradCpuConfig);
    result.gradients.push('AvgPoolGrad (cpu, border windows)');
  }
  const initialised = tf.engine().registry['wasm'];
  if (initialised) {
    for (const config of WASM_TRAINING_KERNELS) tf.getKernel(config.kernelName, 'wasm').setupFunc?.(initialised);
  }
  registered = result;
  return result;
}

/**
 * Put tfjs-backend-wasm's own kernels back (for measuring "wasm as shipped"; the benchmark uses it).
 * Gradient fixes stay. Call registerWasmTrainingKernels() again to restore this package's kernels.
 */
export function unregisterWasmTrainingKernels(): void {
  if (!registered) return;
  for (const config of WASM_TRAINING_KERNELS) {
    tf.unregisterKernel(config.kernelName, 'wasm');
    const stock = original(config.kernelName, true);
    if (stock) tf.registerKernel(stock);
  }
  registered = undefined;
}

export function wasmKernelsProvenance(r: RegisteredKernels): string {
  return `sparse-ift wasm training kernels (replaced: ${r.replaced.join(', ')}; added: ${r.added.join(', ')}; gradients: ${r.gradients.join(', ')})`;
}
