// Identity, and Cast to the same dtype, for wasm without a copy: the output shares the input's memory
// (reference-counted, as tfjs-backend-cpu and wasm's own Reshape do; tf.js tensors are immutable).
// tfjs-backend-wasm 4.22 copies, and the engine clones every tensor a gradient saves through
// Identity (and casts every such gradient back through Cast): ~15 % of a GPT training step.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, typedView } from './heap.js';
import { original } from './call.js';

interface RefCounting {
  incRef(dataId: object): void;
}

function share(backend: unknown, x: TensorInfo): TensorInfo {
  (asWasmBackend(backend) as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return original(tf.Identity).kernelFunc(args);
  return share(args.backend, x);
};

const cast: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: string };
  if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) return castToBool(args.backend, x);
  if (x.dtype !== dtype || x.dtype === 'string') return original(tf.Cast).kernelFunc(args);
  return share(args.backend, x);
};

/**
 * x != 0 (NaN counts as true, as on cpu). The stock kernel assigns the numbers into the bool's Uint8Array,
 * wrapping them (-2 → 254, 0.5 → 0, 3 → 3; tensorflow/tfjs#2590).
 */
function castToBool(b: unknown, x: TensorInfo): TensorInfo {
  const backend = asWasmBackend(b);
  const out = backend.makeOutput(x.shape, 'bool');
  const src = typedView(backend, x)!;
  const dst = typedView(backend, out)!;
  for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}

export const identityConfig: KernelConfig = { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: identity };
export const castConfig: KernelConfig = { kernelName: tf.Cast, backendName: 'wasm', kernelFunc: cast };
