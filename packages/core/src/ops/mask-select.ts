/**
 * The two selections a SET/RigL mask update makes, as ops that run where the masks live (the mask
 * updaters' device path, ../mask-update-ops.ts):
 *
 * - {@link topKByMagnitude}: the k candidates with the largest |value|, ties to the lower flat index
 *   (drop: keep the largest |w| of the on-positions; RigL: grow the largest |dense gradient|);
 * - {@link selectByRank}: the candidates whose rank among the candidates (their 0-based position in
 *   flat order) is listed (SET: the ranks `Rng.sampleIndices` drew).
 *
 * Both return a float32 0/1 tensor of the candidates' shape and pick exactly what the host path
 * (../updaters.ts, ../top-k.ts) picks. Magnitudes are compared exactly (the WGSL kernel ranks the bits
 * of |x|, so subnormals are not flushed). A NaN among the ranked values is an error on the host kernel,
 * undefined on a device one: the updater counts NaNs first. Not differentiable.
 *
 * Kernels: WGSL in `@sparse-ift/backend` for webgpu; the host kernels below elsewhere (see ./host-kernel.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { topKIndices } from '../top-k.js';
import { readValues, registerHostKernel, writeFloat32 } from './host-kernel.js';

/** Kernel: inputs {values, candidates} (float32, same shape), attrs {k}, output float32 0/1. */
export const TOP_K_BY_MAGNITUDE = 'SparseIftTopKByMagnitude';
/** Kernel: inputs {candidates (float32), ranks (int32 [k], ascending, distinct)}, output float32 0/1. */
export const SELECT_BY_RANK = 'SparseIftSelectByRank';

export interface TopKByMagnitudeAttrs {
  k: number;
}

/** Flat indices of the nonzero entries, ascending. */
function candidateIndices(candidates: ArrayLike<number>): Int32Array {
  let m = 0;
  for (let i = 0; i < candidates.length; i++) if (candidates[i] !== 0) m++;
  const out = new Int32Array(m);
  for (let i = 0, j = 0; i < candidates.length; i++) if (candidates[i] !== 0) out[j++] = i;
  return out;
}

/** Reference: 1 at the k candidates with the largest |value| (ties to the lower index), else 0. */
export function topKByMagnitudeReference(values: ArrayLike<number>, candidates: ArrayLike<number>, k: number, out: Float32Array = new Float32Array(values.length)): Float32Array {
  if (values.length !== candidates.length) throw new RangeError(`values have ${values.length} entries but candidates ${candidates.length}`);
  const indices = candidateIndices(candidates);
  // |x| of a float32 is a float32: ranking a Float32Array of magnitudes is exact.
  const magnitude = new Float32Array(values.length);
  for (const i of indices) magnitude[i] = Math.abs(values[i]!);
  out.fill(0);
  for (const i of topKIndices(magnitude, indices, k)) out[i] = 1;
  return out;
}

/** Reference: 1 at the candidates whose rank among the candidates is in `ranks` (ascending), else 0. */
export function selectByRankReference(candidates: ArrayLike<number>, ranks: ArrayLike<number>, out: Float32Array = new Float32Array(candidates.length)): Float32Array {
  out.fill(0);
  let next = 0;
  for (let i = 0, rank = 0; i < candidates.length && next < ranks.length; i++) {
    if (candidates[i] === 0) continue;
    if (ranks[next] === rank) {
      out[i] = 1;
      next++;
    }
    rank++;
  }
  if (next !== ranks.length) {
    throw new RangeError(`selectByRank: rank ${ranks[next]} is not that of a candidate (ranks must be ascending, distinct and below the number of candidates)`);
  }
  return out;
}

const topKHostKernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const { values, candidates } = inputs as { values: TensorInfo; candidates: TensorInfo };
  const out = topKByMagnitudeReference(readValues(backend, values) as Float32Array, readValues(backend, candidates) as Float32Array, (attrs as unknown as TopKByMagnitudeAttrs).k);
  return writeFloat32(backend, out, values.shape);
};

const selectHostKernel: KernelFunc = ({ inputs, backend }) => {
  const { candidates, ranks } = inputs as { candidates: TensorInfo; ranks: TensorInfo };
  const out = selectByRankReference(readValues(backend, candidates) as Float32Array, readValues(backend, ranks) as Int32Array);
  return writeFloat32(backend, out, candidates.shape);
};

/**
 * 1 at the k entries of `candidates` (nonzero = candidate) whose `values` have the largest magnitude,
 * ties to the lower flat index; 0 elsewhere. k must not exceed the number of candidates.
 */
export function topKByMagnitude(values: Tensor, candidates: Tensor, k: number): Tensor {
  if (!tf.util.arraysEqual(values.shape, candidates.shape)) throw new Error(`topKByMagnitude: values [${values.shape}] and candidates [${candidates.shape}] differ in shape`);
  if (values.dtype !== 'float32' || candidates.dtype !== 'float32') throw new Error('topKByMagnitude: values and candidates must be float32');
  if (!Number.isInteger(k) || k < 0 || k > values.size) throw new RangeError(`topKByMagnitude: k must be an integer in [0, ${values.size}], got ${k}`);
  registerHostKernel(TOP_K_BY_MAGNITUDE, topKHostKernel);
  const attrs: TopKByMagnitudeAttrs = { k };
  return tf.engine().runKernel(TOP_K_BY_MAGNITUDE, { values, candidates }, attrs as unknown as NamedAttrMap) as Tensor;
}

/** 1 at the candidates whose rank among the candidates (flat order) is in `ranks` (ascending, distinct). */
export function selectByRank(candidates: Tensor, ranks: Int32Array): Tensor {
  if (candidates.dtype !== 'float32') throw new Error('selectByRank: candidates must be float32');
  for (let i = 1; i < ranks.length; i++) {
    if (!(ranks[i]! > ranks[i - 1]!)) throw new RangeError('selectByRank: ranks must be ascending and distinct');
  }
  if (ranks.length > 0 && (ranks[0]! < 0 || ranks[ranks.length - 1]! >= candidates.size)) throw new RangeError(`selectByRank: ranks must lie in [0, ${candidates.size})`);
  if (ranks.length === 0) return tf.zerosLike(candidates);
  registerHostKernel(SELECT_BY_RANK, selectHostKernel);
  return tf.tidy(() => tf.engine().runKernel(SELECT_BY_RANK, { candidates, ranks: tf.tensor1d(ranks, 'int32') }, {}) as Tensor);
}

registerHostKernel(TOP_K_BY_MAGNITUDE, topKHostKernel, 'cpu');
registerHostKernel(SELECT_BY_RANK, selectHostKernel, 'cpu');
