// Registers this package's WGSL kernels for core's fused ops on the 'webgpu' backend (idempotent).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { registerTrainingGradients } from '../../wasm-kernels/gradients.js';
import { registerWebGPUKernel } from '../backend.js';
import { batchNormTrainGradWebGPUConfig, batchNormTrainWebGPUConfig } from './batch-norm.js';
import { geluGradWebGPUConfig, geluWebGPUConfig } from './gelu.js';
import { layerNormGradWebGPUConfig, layerNormWebGPUConfig } from './layer-norm.js';
import { addNWebGPUConfig } from './add-n.js';
import { dropoutWebGPUConfig } from './dropout.js';
import { selectByRankWebGPUConfig, topKByMagnitudeWebGPUConfig } from './mask-select.js';

export const WEBGPU_FUSED_KERNELS: readonly KernelConfig[] = [
  batchNormTrainWebGPUConfig,
  batchNormTrainGradWebGPUConfig,
  layerNormWebGPUConfig,
  layerNormGradWebGPUConfig,
  geluWebGPUConfig,
  geluGradWebGPUConfig,
];

/**
 * Core's device-training kernels (dropout, the mask updates' selections). Core registers a host kernel
 * (read to JavaScript and back) for any backend lacking one; these replace it on webgpu.
 */
export const WEBGPU_DEVICE_TRAINING_KERNELS: readonly KernelConfig[] = [dropoutWebGPUConfig, topKByMagnitudeWebGPUConfig, selectByRankWebGPUConfig];

export function registerWebGPUFusedKernels(): string[] {
  registerTrainingGradients();
  for (const config of WEBGPU_FUSED_KERNELS) {
    if (!tf.getKernel(config.kernelName, 'webgpu')) registerWebGPUKernel(config);
  }
  for (const config of WEBGPU_DEVICE_TRAINING_KERNELS) registerWebGPUKernel(config);
  const addN = addNWebGPUConfig();
  if (addN) registerWebGPUKernel(addN);
  return WEBGPU_FUSED_KERNELS.map((c) => c.kernelName);
}

/** Take them away again (tests compare the fused kernels with core's composed fallback on webgpu). */
export function unregisterWebGPUFusedKernels(): void {
  for (const config of WEBGPU_FUSED_KERNELS) {
    if (tf.getKernel(config.kernelName, 'webgpu')) tf.unregisterKernel(config.kernelName, 'webgpu');
  }
}
