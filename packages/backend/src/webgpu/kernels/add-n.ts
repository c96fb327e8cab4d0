// AddN with more inputs than a shader may bind: tfjs-backend-webgpu's AddN binds every input at once, so a
// sum of many gradients (e.g. a tied embedding used in many places) fails validation where the adapter
// allows few storage buffers (16 on OpenGL ES). Sums in chunks that fit, then sums the partial sums.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { dispose } from './program.js';

let stock: KernelFunc | undefined;

const addN: KernelFunc = (args) => {
  const backend = args.backend as unknown as WebGPUBackend;
  const inputs = args.inputs as unknown as TensorInfo[];
  // One binding for the output, one for the uniforms.
  const chunk = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
  if (inputs.length <= chunk) return stock!(args);
  const partial: TensorInfo[] = [];
  for (let i = 0; i < inputs.length; i += chunk) {
    const part = inputs.slice(i, i + chunk);
    partial.push(part.length === 1 ? part[0]! : (stock!({ ...args, inputs: part as unknown as tf.NamedTensorInfoMap }) as TensorInfo));
  }
  const out = addN({ ...args, inputs: partial as unknown as tf.NamedTensorInfoMap }) as TensorInfo;
  dispose(backend, ...partial.filter((t) => !inputs.includes(t)));
  return out;
};

/** Wraps the stock AddN (once); undefined when tfjs-backend-webgpu registered none. */
export function addNWebGPUConfig(): KernelConfig | undefined {
  const existing = tf.getKernel(tf.AddN, 'webgpu');
  if (!existing) return undefined;
  if (existing.kernelFunc === addN || stock) return { ...existing, kernelFunc: addN };
  stock = existing.kernelFunc;
  return { ...existing, kernelFunc: addN };
}
