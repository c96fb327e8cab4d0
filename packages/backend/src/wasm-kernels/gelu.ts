// @sparse-ift/core's fused GELU as wasm kernels: vectorised on the native addon when it is built,
// else core's plain-JS reference on the heap's Float32Arrays.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { GELU, GELU_GRAD, geluGradReference, geluReference, type GeluAttrs } from '@sparse-ift/core';
import { asWasmBackend, byteOffset, f32, makeFloatOutputs } from './heap.js';
import { nativeAddon } from './native-hook.js';

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { x } = inputs as { x: TensorInfo };
  const { approximate } = attrs as unknown as GeluAttrs;
  const [y] = makeFloatOutputs(backend, [x.shape], 'a gelu output') as [TensorInfo];
  const addon = nativeAddon();
  if (addon) addon.gelu(backend.wasm.HEAPU8.buffer, f32(backend, x).length, approximate === 'tanh', byteOffset(backend, x), byteOffset(backend, y));
  else geluReference(f32(backend, x), approximate, f32(backend, y)); // written in place on the heap
  return y;
};

const backward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const { approximate } = attrs as unknown as GeluAttrs;
  const [dx] = makeFloatOutputs(backend, [x.shape], 'a gelu gradient') as [TensorInfo];
  const addon = nativeAddon();
  if (addon) {
    addon.gelu(backend.wasm.HEAPU8.buffer, f32(backend, x).length, approximate === 'tanh', byteOffset(backend, dy), byteOffset(backend, x), byteOffset(backend, dx));
  } else {
    geluGradReference(f32(backend, dy), f32(backend, x), approximate, f32(backend, dx));
  }
  return dx;
};

export const geluConfig: KernelConfig = { kernelName: GELU, backendName: 'wasm', kernelFunc: forward };
export const geluGradConfig: KernelConfig = { kernelName: GELU_GRAD, backendName: 'wasm', kernelFunc: backward };
