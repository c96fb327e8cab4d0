// @sparse-ift/core's fused LayerNorm as wasm kernels: on the native addon (OpenMP) when it is built,
// else core's plain-JS reference on the heap's Float32Arrays.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { LAYER_NORM, LAYER_NORM_GRAD, layerNormGradReference, layerNormReference, type LayerNormAttrs } from '@sparse-ift/core';
import { asWasmBackend, byteOffset, f32, makeFloatOutputs } from './heap.js';
import { nativeAddon } from './native-hook.js';

function rowsOf(x: TensorInfo): { rows: number; size: number } {
  const size = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.slice(0, -1).reduce((a, b) => a * b, 1), size };
}

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const { epsilon } = attrs as unknown as LayerNormAttrs;
  const { rows, size } = rowsOf(x!);
  const outs = makeFloatOutputs(backend, [x!.shape, [rows], [rows]], 'a layer-norm output');
  const [y, mean, rstd] = outs as [TensorInfo, TensorInfo, TensorInfo];
  const addon = nativeAddon();
  if (addon) {
    const o = (t: TensorInfo) => byteOffset(backend, t);
    addon.layerNorm(backend.wasm.HEAPU8.buffer, rows, size, epsilon, o(x!), o(gamma!), o(beta!), o(y), o(mean), o(rstd));
  } else {
    const r = layerNormReference(f32(backend, x!), f32(backend, gamma!), f32(backend, beta!), epsilon);
    f32(backend, y).set(r.y);
    f32(backend, mean).set(r.mean);
    f32(backend, rstd).set(r.rstd);
  }
  return outs;
};

const backward: KernelFunc = ({ inputs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { dy, x, gamma, mean, rstd } = inputs as Record<string, TensorInfo>;
  const { rows, size } = rowsOf(x!);
  const outs = makeFloatOutputs(backend, [x!.shape, [size], [size]], 'a layer-norm gradient');
  const [dx, dgamma, dbeta] = outs as [TensorInfo, TensorInfo, TensorInfo];
  const addon = nativeAddon();
  if (addon) {
    const o = (t: TensorInfo) => byteOffset(backend, t);
    addon.layerNorm(backend.wasm.HEAPU8.buffer, rows, size, o(dy!), o(x!), o(gamma!), o(mean!), o(rstd!), o(dx), o(dgamma), o(dbeta));
  } else {
    const v = (t: TensorInfo) => f32(backend, t);
    const r = layerNormGradReference(v(dy!), v(x!), v(gamma!), v(mean!), v(rstd!));
    v(dx).set(r.dx);
    v(dgamma).set(r.dgamma);
    v(dbeta).set(r.dbeta);
  }
  return outs;
};

export const layerNormConfig: KernelConfig = { kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: forward };
export const layerNormGradConfig: KernelConfig = { kernelName: LAYER_NORM_GRAD, backendName: 'wasm', kernelFunc: backward };
