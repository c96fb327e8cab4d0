// @sparse-ift/core's dropout (Philox mask) as a wasm kernel: core's JavaScript reference written straight
// into the heap, without the two copies core's generic host kernel makes (read out, write back). A native
// (C) Philox would be the next step; the bits must stay core's.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { DROPOUT, dropoutReference, type DropoutAttrs } from '@sparse-ift/core';
import { asWasmBackend, f32, makeFloatOutputs } from './heap.js';

const dropout: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { x } = inputs as { x: TensorInfo };
  const [y] = makeFloatOutputs(backend, [x.shape], 'a dropout output') as [TensorInfo];
  dropoutReference(f32(backend, x), attrs as unknown as DropoutAttrs, f32(backend, y));
  return y;
};

export const dropoutConfig: KernelConfig = { kernelName: DROPOUT, backendName: 'wasm', kernelFunc: dropout };
