// The fused training batch norm (+ residual add + ReLU) of @sparse-ift/core, as wasm kernels: on the
// native addon (OpenMP, in place on the wasm heap) when it is built, else core's plain-JS reference
// on the heap's Float32Arrays. Without these kernels the op falls back on ~20 stock kernels.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  batchNormRows,
  batchNormTrainGradReference,
  batchNormTrainReference,
  type BatchNormTrainAttrs,
} from '@sparse-ift/core';
import { asWasmBackend, byteOffset, f32, makeFloatOutputs } from './heap.js';
import { nativeAddon } from './native-hook.js';

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { x, gamma, beta, residual } = inputs as Record<string, TensorInfo | undefined> as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; residual?: TensorInfo };
  const a = attrs as unknown as BatchNormTrainAttrs;
  const { rows, channels } = batchNormRows(x);
  const [y, mean, variance] = makeFloatOutputs(backend, [x.shape, [channels], [channels]], 'a batch-norm output') as [TensorInfo, TensorInfo, TensorInfo];
  const addon = nativeAddon();
  if (addon) {
    const off = (t: TensorInfo | undefined) => (t ? byteOffset(backend, t) : -1);
    addon.batchNormForward(backend.wasm.HEAPU8.buffer, rows, channels, a.relu, a.epsilon,
      off(x), off(gamma), off(beta), off(residual), off(y), off(mean), off(variance));
  } else {
    const r = batchNormTrainReference(f32(backend, x), f32(backend, gamma), f32(backend, beta), residual ? f32(backend, residual) : undefined, a);
    f32(backend, y).set(r.y);
    f32(backend, mean).set(r.mean);
    f32(backend, variance).set(r.variance);
  }
  return [y, mean, variance];
};

const backward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = asWasmBackend(b);
  const { dy, x, gamma, mean, variance, y } = inputs as Record<string, TensorInfo>;
  const a = attrs as unknown as BatchNormTrainAttrs;
  const { rows, channels } = batchNormRows(x!);
  const shapes = [x!.shape, [channels], [channels]];
  if (a.residual) shapes.push(x!.shape);
  const outs = makeFloatOutputs(backend, shapes, 'a batch-norm gradient');
  const [dx, dgamma, dbeta, dresidual] = outs as [TensorInfo, TensorInfo, TensorInfo, TensorInfo | undefined];
  const addon = nativeAddon();
  if (addon) {
    const off = (t: TensorInfo | undefined) => (t ? byteOffset(backend, t) : -1);
    addon.batchNormBackward(backend.wasm.HEAPU8.buffer, rows, channels, a.relu, a.epsilon,
      off(dy), off(x), off(gamma), off(mean), off(variance), a.relu ? off(y) : -1, off(dx), off(dgamma), off(dbeta), off(dresidual));
  } else {
    const v = (t: TensorInfo) => f32(backend, t);
    const r = batchNormTrainGradReference(v(dy!), v(x!), v(gamma!), v(mean!), v(variance!), v(y!), a);
    v(dx).set(r.dx);
    v(dgamma).set(r.dgamma);
    v(dbeta).set(r.dbeta);
    if (dresidual && r.dresidual) v(dresidual).set(r.dresidual);
  }
  return outs;
};

export const batchNormTrainConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: forward };
export const batchNormTrainGradConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backward };

