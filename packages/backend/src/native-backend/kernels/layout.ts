// Data movement: Transpose, Tile, GatherV2, UnsortedSegmentSum on the addon; Reshape, Identity and
// ExpandDims share their input's data (tf.js data is immutable, so a relabelling needs no copy).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, share, Shared, type NativeKernel, type NativeKernelArgs } from '../kernel.js';
import type { NativeBackend } from '../backend.js';
import type { TypedArray } from '../../native.js';
import { f32, i32, ints, output, typed } from './tensors.js';

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Row-major element strides. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

type Numeric = 'float32' | 'int32' | 'bool';

/**
 * The block of x at `begin` with shape `size`: a view of x's memory when contiguous (as tfjs-backend-cpu
 * does; no copy), else a copy by the addon.
 */
function sliceOf(args: NativeKernelArgs, x: TensorInfo, xv: TypedArray, begin: number[], size: number[], outShape = size): TensorInfo | Shared {
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, d) => acc + b * strides[d]!, 0);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    return new Shared(args.backend.makeTensorInfo(outShape, x.dtype, xv.subarray(offset, offset + product(size))));
  }
  const out = output(args.backend, outShape, x.dtype as Numeric, 'any');
  if (out.values.length > 0) args.addon.tensors.copyBlock(ints(size), xv, offset, ints(strides), out.values, 0, ints(stridesOf(size)));
  return out.info;
}

/** Tensors of a list input (Concat, Pack, AddN) with typed values of one dtype, or why not. */
export function listOf(backend: NativeBackend, kernel: string, inputs: NativeKernelArgs['inputs']): { infos: TensorInfo[]; values: TypedArray[] } | string {
  const infos = Object.values(inputs).filter((t): t is TensorInfo => t !== undefined);
  if (infos.length === 0) return 'no inputs';
  const values: TypedArray[] = [];
  for (const t of infos) {
    if (t.dtype !== infos[0]!.dtype) return 'mixed dtypes';
    const v = typed(backend, t, kernel);
    if (!v) return `dtype ${t.dtype}`;
    values.push(v);
  }
  return { infos, values };
}

/** Writes each part into `out` along `axis` (parts share every other dimension). */
function joinAlong(args: NativeKernelArgs, parts: { shape: number[]; values: TypedArray }[], axis: number, out: TypedArray, outShape: number[]): void {
  const outer = product(outShape.slice(0, axis));
  const outInner = product(outShape.slice(axis));
  let offset = 0;
  for (const p of parts) {
    const inner = product(p.shape.slice(axis));
    if (inner > 0 && outer > 0) args.addon.tensors.copyBlock(ints([outer, inner]), p.values, 0, ints([inner, 1]), out, offset, ints([outInner, 1]));
    offset += inner;
  }
}

const transpose: NativeKernel = {
  kernelName: tf.Transpose,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x } = inputs as { x: TensorInfo };
    const perm = attrs['perm'] as number[];
    const xv = typed(backend, x, tf.Transpose);
    if (!xv) return decline(`dtype ${x.dtype}`);
    if (x.shape.length > 8) return decline(`rank ${x.shape.length}`);
    const outShape = perm.map((p) => x.shape[p]!);
    if (perm.every((p, i) => p === i)) return share(backend, x);
    const out = output(backend, outShape, x.dtype as 'float32' | 'int32' | 'bool', 'any');
    if (xv.length > 0) addon.tensors.transpose(ints(x.shape), ints(perm), xv, out.values);
    return out.info;
  },
};

const tile: NativeKernel = {
  kernelName: tf.Tile,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x } = inputs as { x: TensorInfo };
    const reps = attrs['reps'] as number[];
    const xv = typed(backend, x, tf.Tile);
    if (!xv) return decline(`dtype ${x.dtype}`);
    if (x.shape.length === 0 || x.shape.length > 8 || reps.length !== x.shape.length) return decline(`rank ${x.shape.length}`);
    const out = output(backend, x.shape.map((n, d) => n * reps[d]!), x.dtype as 'float32' | 'int32' | 'bool', 'any');
    if (out.values.length > 0) addon.tensors.tile(ints(x.shape), ints(reps), xv, out.values);
    return out.info;
  },
};

const gather: NativeKernel = {
  kernelName: tf.GatherV2,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    if ((attrs['batchDims'] as number | undefined ?? 0) !== 0) return decline('batchDims != 0');
    const xv = typed(backend, x, tf.GatherV2);
    const iv = i32(backend, indices, tf.GatherV2);
    if (!xv || !iv) return decline(`dtypes ${x.dtype} and ${indices.dtype}`);
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0]!;
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const out = output(backend, outShape, x.dtype as 'float32' | 'int32' | 'bool', 'any');
    if (out.values.length === 0) return out.info;
    if (!addon.tensors.gather(product(x.shape.slice(0, axis)), x.shape[axis]!, product(x.shape.slice(axis + 1)), xv, iv, out.values)) {
      backend.disposeData(out.info.dataId);
      return decline('an index is out of range'); // tfjs-backend-cpu then throws, naming it
    }
    return out.info;
  },
};

const unsortedSegmentSum: NativeKernel = {
  kernelName: tf.UnsortedSegmentSum,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = attrs['numSegments'] as number;
    const xv = x.dtype === 'int32' ? i32(backend, x, tf.UnsortedSegmentSum) : f32(backend, x, tf.UnsortedSegmentSum);
    const ids = i32(backend, segmentIds, tf.UnsortedSegmentSum);
    if (!xv || !ids) return decline(`dtypes ${x.dtype} and ${segmentIds.dtype}`);
    const idRank = segmentIds.shape.length;
    if (!segmentIds.shape.every((n, d) => n === x.shape[d])) return decline('segment ids are not a leading block of x');
    const inner = product(x.shape.slice(idRank));
    // int32 stays int32 (as TensorFlow; tfjs-backend-cpu's kernel returns float32).
    const out = output(backend, [numSegments, ...x.shape.slice(idRank)], x.dtype as 'float32' | 'int32', 'any');
    if (out.values.length > 0) addon.tensors.segmentSum(ids.length, inner, xv, ids, numSegments, out.values);
    return out.info;
  },
};

const reshape: NativeKernel = {
  kernelName: tf.Reshape,
  route: 'shared',
  run: ({ inputs, attrs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    const shape = tf.util.inferFromImplicitShape(attrs['shape'] as number[], tf.util.sizeFromShape(x.shape));
    if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(x.shape)) return decline('sizes differ');
    return share(backend, x, shape);
  },
};

const identity: NativeKernel = {
  kernelName: tf.Identity,
  route: 'shared',
  run: ({ inputs, backend }) => share(backend, inputs['x'] as TensorInfo),
};

const expandDims: NativeKernel = {
  kernelName: tf.ExpandDims,
  route: 'shared',
  run: ({ inputs, attrs, backend }) => {
    const { input } = inputs as { input: TensorInfo };
    const rank = input.shape.length;
    let dim = attrs['dim'] as number;
    if (dim < 0) dim += rank + 1;
    if (dim < 0 || dim > rank) return decline(`dim ${attrs['dim']} out of range`);
    const shape = [...input.shape.slice(0, dim), 1, ...input.shape.slice(dim)];
    return share(backend, input, shape);
  },
};

const slice: NativeKernel = {
  kernelName: tf.Slice,
  run: (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const xv = typed(args.backend, x, tf.Slice);
    if (!xv) return decline(`dtype ${x.dtype}`);
    if (x.shape.length > 8) return decline(`rank ${x.shape.length}`);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs['begin'] as number[], args.attrs['size'] as number[]);
    tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
    return sliceOf(args, x, xv, begin, size);
  },
};

const pad: NativeKernel = {
  kernelName: tf.PadV2,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x } = inputs as { x: TensorInfo };
    const paddings = attrs['paddings'] as [number, number][];
    const value = attrs['constantValue'] as number;
    const xv = typed(backend, x, tf.PadV2);
    if (!xv) return decline(`dtype ${x.dtype}`);
    if (x.shape.length === 0 || x.shape.length > 8) return decline(`rank ${x.shape.length}`);
    if (paddings.some(([a, b]) => a < 0 || b < 0)) return decline('negative padding');
    const outShape = x.shape.map((n, d) => paddings[d]![0] + n + paddings[d]![1]);
    const out = output(backend, outShape, x.dtype as Numeric, value === 0 ? 'zero' : 'any');
    if (value !== 0) out.values.fill(value);
    const os = stridesOf(outShape);
    const offset = paddings.reduce((acc, [before], d) => acc + before * os[d]!, 0);
    if (xv.length > 0) addon.tensors.copyBlock(ints(x.shape), xv, 0, ints(stridesOf(x.shape)), out.values, offset, ints(os));
    return out.info;
  },
};

const concat: NativeKernel = {
  kernelName: tf.Concat,
  run: (args) => {
    const list = listOf(args.backend, tf.Concat, args.inputs);
    if (typeof list === 'string') return decline(list);
    const shapes = list.infos.map((t) => t.shape);
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number, shapes[0]!)[0]!;
    tf.backend_util.assertParamsConsistent(shapes, axis);
    const outShape = tf.backend_util.computeOutShape(shapes, axis);
    const out = output(args.backend, outShape, list.infos[0]!.dtype as Numeric, 'any');
    joinAlong(args, list.infos.map((t, i) => ({ shape: t.shape, values: list.values[i]! })), axis, out.values, outShape);
    return out.info;
  },
};

const pack: NativeKernel = {
  kernelName: tf.Pack,
  run: (args) => {
    const list = listOf(args.backend, tf.Pack, args.inputs);
    if (typeof list === 'string') return decline(list);
    const shape = list.infos[0]!.shape;
    if (list.infos.some((t) => !tf.util.arraysEqual(t.shape, shape))) return decline('shapes differ');
    let axis = args.attrs['axis'] as number;
    if (axis < 0) axis += shape.length + 1;
    const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
    const outShape = [...shape.slice(0, axis), list.infos.length, ...shape.slice(axis)];
    const out = output(args.backend, outShape, list.infos[0]!.dtype as Numeric, 'any');
    joinAlong(args, list.values.map((values) => ({ shape: expanded, values })), axis, out.values, outShape);
    return out.info;
  },
};

/** The pieces of x along `axis` (sizes), each a view when contiguous. */
function splitAlong(args: NativeKernelArgs, kernel: string, x: TensorInfo, sizes: number[], axis: number, squeeze: boolean): TensorInfo[] | ReturnType<typeof decline> {
  const xv = typed(args.backend, x, kernel);
  if (!xv) return decline(`dtype ${x.dtype}`);
  if (x.shape.length > 8) return decline(`rank ${x.shape.length}`);
  const outs: TensorInfo[] = [];
  let start = 0;
  for (const n of sizes) {
    const begin = x.shape.map((_, d) => (d === axis ? start : 0));
    const size = x.shape.map((m, d) => (d === axis ? n : m));
    const outShape = squeeze ? size.filter((_, d) => d !== axis) : size;
    const piece = sliceOf(args, x, xv, begin, size, outShape);
    outs.push(piece instanceof Shared ? piece.info : piece);
    start += n;
  }
  return outs;
}

const splitV: NativeKernel = {
  kernelName: tf.SplitV,
  run: (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs['numOrSizeSplits'] as number | number[], axis);
    return splitAlong(args, tf.SplitV, x, sizes, axis, false);
  },
};

const unpack: NativeKernel = {
  kernelName: tf.Unpack,
  run: (args) => {
    const { value } = args.inputs as { value: TensorInfo };
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number, value.shape)[0]!;
    return splitAlong(args, tf.Unpack, value, new Array<number>(value.shape[axis]!).fill(1), axis, true);
  },
};

export const LAYOUT_KERNELS: NativeKernel[] = [
  transpose, tile, gather, unsortedSegmentSum, reshape, identity, expandDims, slice, pad, concat, pack, splitV, unpack,
];
