// Kernels that make new tensors from scalars: ZerosLike, OnesLike, Fill (allocation and V8's native
// TypedArray.fill: memset speed, no JavaScript loop) and OneHot (the addon).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, type NativeKernel } from '../kernel.js';
import { i32, output } from './tensors.js';

type Numeric = 'float32' | 'int32' | 'bool';
const numeric = (dtype: string): dtype is Numeric => dtype === 'float32' || dtype === 'int32' || dtype === 'bool';

function filled(kernelName: string, value: number): NativeKernel {
  return {
    kernelName,
    run: ({ inputs, backend }) => {
      const { x } = inputs as { x: TensorInfo };
      if (!numeric(x.dtype)) return decline(`dtype ${x.dtype}`);
      const out = output(backend, x.shape, x.dtype, value === 0 ? 'zero' : 'any');
      if (value !== 0) out.values.fill(value);
      return out.info;
    },
  };
}

const fill: NativeKernel = {
  kernelName: tf.Fill,
  run: ({ attrs, backend }) => {
    const { shape, value, dtype } = attrs as unknown as { shape: number[]; value: number; dtype: string };
    if (!numeric(dtype) || typeof value !== 'number') return decline(`dtype ${dtype}`);
    const out = output(backend, shape, dtype, value === 0 ? 'zero' : 'any');
    if (value !== 0) out.values.fill(value);
    return out.info;
  },
};

const oneHot: NativeKernel = {
  kernelName: tf.OneHot,
  run: ({ inputs, attrs, backend, addon }) => {
    const { indices } = inputs as { indices: TensorInfo };
    const { depth, onValue, offValue, dtype } = attrs as unknown as { depth: number; onValue: number; offValue: number; dtype: string };
    const iv = i32(backend, indices, tf.OneHot);
    if (!iv) return decline(`indices dtype ${indices.dtype}`);
    if (dtype !== 'float32' && dtype !== 'int32') return decline(`dtype ${dtype}`);
    const out = output(backend, [...indices.shape, depth], dtype, 'any');
    if (out.values.length > 0) addon.tensors.oneHot(iv, depth, onValue, offValue, out.values);
    return out.info;
  },
};

export const CONSTRUCT_KERNELS: NativeKernel[] = [filled(tf.ZerosLike, 0), filled(tf.OnesLike, 1), fill, oneHot];
