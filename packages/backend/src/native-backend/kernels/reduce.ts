// Reductions (Sum, Mean, Max, Min, Prod over any axes of a float32 tensor) and Softmax over the last axis.
// The addon reduces x viewed as [A, R, B]; reduced axes that are not one contiguous run are transposed to
// the end first.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, type NativeKernel } from '../kernel.js';
import { f32, i32, ints, output } from './tensors.js';
import { allocate, discard } from '../memory.js';

const REDUCE: Record<string, number> = { [tf.Sum]: 0, [tf.Mean]: 1, [tf.Max]: 2, [tf.Min]: 3, [tf.Prod]: 4 };

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

function reduceKernel(kernelName: string): NativeKernel {
  const op = REDUCE[kernelName]!;
  return {
    kernelName,
    run: ({ inputs, attrs, backend, addon }) => {
      const { x } = inputs as { x: TensorInfo };
      // int32 by sum only (a count of correct predictions); float32 for everything.
      const xv = kernelName === tf.Sum && x.dtype === 'int32' ? i32(backend, x, kernelName) : f32(backend, x, kernelName);
      if (!xv) return decline(`dtype ${x.dtype}`);
      if (xv.length === 0) return decline('empty input');
      const rank = x.shape.length;
      // Max names its axes `reductionIndices`, the others `axis`.
      const axis = (kernelName === tf.Max ? attrs['reductionIndices'] : attrs['axis']) as number | number[];
      const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
      const keepDims = attrs['keepDims'] === true;
      const outShape = keepDims ? x.shape.map((n, d) => (axes.includes(d) ? 1 : n)) : x.shape.filter((_, d) => !axes.includes(d));
      const out = output(backend, outShape, x.dtype as 'float32' | 'int32', 'any');
      if (axes.length === 0) {
        out.values.set(xv);
        return out.info;
      }
      const first = axes[0]!;
      const last = axes[axes.length - 1]!;
      if (last - first + 1 === axes.length) {
        addon.tensors.reduce(op, product(x.shape.slice(0, first)), product(x.shape.slice(first, last + 1)), product(x.shape.slice(last + 1)), xv, out.values);
        return out.info;
      }
      // Kept axes first, reduced axes last, then one row reduction.
      const kept = [...Array(rank).keys()].filter((d) => !axes.includes(d));
      const moved = allocate(x.dtype, xv.length, false) as typeof xv;
      addon.tensors.transpose(ints(x.shape), ints([...kept, ...axes]), xv, moved);
      addon.tensors.reduce(op, product(kept.map((d) => x.shape[d]!)), product(axes.map((d) => x.shape[d]!)), 1, moved, out.values);
      discard(moved);
      return out.info;
    },
  };
}

const softmax: NativeKernel = {
  kernelName: tf.Softmax,
  run: ({ inputs, attrs, backend, addon }) => {
    const { logits } = inputs as { logits: TensorInfo };
    const xv = f32(backend, logits, tf.Softmax);
    if (!xv) return decline(`dtype ${logits.dtype}`);
    const rank = logits.shape.length;
    const dim = attrs['dim'] as number;
    if (rank === 0 || (dim !== -1 && dim !== rank - 1)) return decline(`softmax over axis ${dim} of rank ${rank} (last axis only)`);
    const cols = logits.shape[rank - 1]!;
    const out = output(backend, logits.shape, 'float32', 'any');
    if (xv.length > 0) addon.tensors.softmax(xv.length / cols, cols, xv, out.values);
    return out.info;
  },
};

function argKernel(kernelName: string, max: boolean): NativeKernel {
  return {
    kernelName,
    run: ({ inputs, attrs, backend, addon }) => {
      const { x } = inputs as { x: TensorInfo };
      const xv = f32(backend, x, kernelName);
      if (!xv) return decline(`dtype ${x.dtype}`);
      const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
      if (axes.length !== 1) return decline('more than one axis');
      const axis = axes[0]!;
      if (x.shape[axis] === 0) return decline('empty axis');
      const out = output(backend, x.shape.filter((_, d) => d !== axis), 'int32', 'any');
      if (out.values.length > 0) addon.tensors.argReduce(max, product(x.shape.slice(0, axis)), x.shape[axis]!, product(x.shape.slice(axis + 1)), xv, out.values);
      return out.info;
    },
  };
}

export const REDUCE_KERNELS: NativeKernel[] = [...Object.keys(REDUCE).map(reduceKernel), softmax, argKernel(tf.ArgMax, true), argKernel(tf.ArgMin, false)];
