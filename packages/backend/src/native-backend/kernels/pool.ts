// MaxPool, AvgPool and their gradients on NHWC (tfjs-backend-cpu's semantics; native/pool.cc).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, type NativeKernel } from '../kernel.js';
import { f32, ints, output } from './tensors.js';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolGeometry(xShape: number[], a: PoolAttrs): Float64Array | string {
  if (xShape.length !== 4) return 'rank is not 4';
  try {
    const i = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    if (i.dilationHeight !== 1 || i.dilationWidth !== 1) return 'dilated pooling';
    return ints([i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels, i.filterHeight, i.filterWidth,
      i.strideHeight, i.strideWidth, 1, 1, i.padInfo.top, i.padInfo.left]);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function poolKernel(kernelName: string, op: 0 | 1 | 2 | 3): NativeKernel {
  const grad = op === 1 || op === 3;
  return {
    kernelName,
    run: ({ inputs, attrs, backend, addon }) => {
      const x = (grad ? inputs['input'] : inputs['x']) as TensorInfo;
      const dy = inputs['dy'];
      const g = poolGeometry(x.shape, attrs as unknown as PoolAttrs);
      if (typeof g === 'string') return decline(g);
      const xv = f32(backend, x, kernelName);
      const dyv = grad ? f32(backend, dy, kernelName) : undefined;
      if (!xv || (grad && !dyv)) return decline('dtype is not float32');
      if (xv.length === 0) return decline('empty tensor');
      const outShape = grad ? x.shape : [g[0]!, g[4]!, g[5]!, g[6]!];
      const out = output(backend, outShape, 'float32', 'any');
      addon.tensors.pool(op, g, grad ? dyv! : xv, op === 1 ? xv : null, out.values);
      return out.info;
    },
  };
}

export const POOL_KERNELS: NativeKernel[] = [
  poolKernel(tf.MaxPool, 0),
  poolKernel(tf.MaxPoolGrad, 1),
  poolKernel(tf.AvgPool, 2),
  poolKernel(tf.AvgPoolGrad, 3),
];
