// Elementwise kernels: binary ops with tf.js broadcasting (float32; int32 for the integer-exact ones),
// unary float32 ops and casts. Shapes are collapsed here (adjacent dimensions that are contiguous in every
// operand merge) so the addon sees at most a few dimensions.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, share, type NativeKernel } from '../kernel.js';
import { anyEmpty, chwnOutput, f32, ints, output, typed } from './tensors.js';
import { listOf } from './layout.js';
import type { NativeBackend } from '../backend.js';

/**
 * Elementwise float32 ops are layout-free: when the operands of the output's shape are all stored CHWN
 * (any other being a single value) the op runs on the stored order and writes CHWN. Each operand's values
 * and element stride (0 for the single value), or undefined where one needs its NHWC order.
 */
function storedChwn(backend: NativeBackend, outShape: number[], ts: TensorInfo[]): { values: Float32Array; stride: number }[] | undefined {
  let any = false;
  const out: { values: Float32Array; stride: number }[] = [];
  for (const t of ts) {
    const c = tf.util.arraysEqual(t.shape, outShape) ? backend.chwnValues(t) : undefined;
    const v = c ?? (tf.util.sizeFromShape(t.shape) === 1 ? f32(backend, t, 'elementwise') : undefined);
    if (!v) return undefined;
    any ||= c !== undefined;
    out.push({ values: v, stride: c ? 1 : 0 });
  }
  return any ? out : undefined;
}

// Opcodes of native/kernels.h (BinaryOp, UnaryOp).
const BINARY: Record<string, { op: number; int32: boolean; compare?: boolean; logical?: boolean }> = {
  [tf.Add]: { op: 0, int32: true },
  [tf.Sub]: { op: 1, int32: true },
  [tf.Multiply]: { op: 2, int32: true },
  [tf.RealDiv]: { op: 3, int32: false },
  [tf.Maximum]: { op: 4, int32: true },
  [tf.Minimum]: { op: 5, int32: true },
  [tf.SquaredDifference]: { op: 6, int32: false },
  [tf.Greater]: { op: 16, int32: true, compare: true },
  [tf.GreaterEqual]: { op: 17, int32: true, compare: true },
  [tf.Less]: { op: 18, int32: true, compare: true },
  [tf.LessEqual]: { op: 19, int32: true, compare: true },
  [tf.Equal]: { op: 20, int32: true, compare: true },
  [tf.NotEqual]: { op: 21, int32: true, compare: true },
  [tf.LogicalAnd]: { op: 32, int32: false, logical: true },
  [tf.LogicalOr]: { op: 33, int32: false, logical: true },
};

export interface BroadcastPlan {
  outShape: number[];
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/** Output shape and collapsed (dims, element strides of a and b; 0 where broadcast) of a op b. */
export function broadcastPlan(aShape: number[], bShape: number[]): BroadcastPlan {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const rank = outShape.length;
  const stridesOf = (shape: number[]): number[] => {
    const aligned = [...Array(rank - shape.length).fill(1), ...shape] as number[];
    const s = new Array<number>(rank).fill(0);
    let step = 1;
    for (let d = rank - 1; d >= 0; d--) {
      s[d] = aligned[d] === 1 ? 0 : step;
      step *= aligned[d]!;
    }
    return s;
  };
  const as = stridesOf(aShape);
  const bs = stridesOf(bShape);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    // Merge with the previous kept dimension when both operands step through the two contiguously.
    if (last >= 0 && aStrides[last] === as[d]! * n && bStrides[last] === bs[d]! * n) {
      dims[last] = dims[last]! * n;
      aStrides[last] = as[d]!;
      bStrides[last] = bs[d]!;
    } else {
      dims.push(n);
      aStrides.push(as[d]!);
      bStrides.push(bs[d]!);
    }
  }
  return { outShape, dims, aStrides, bStrides };
}

function binaryKernel(kernelName: string): NativeKernel {
  const spec = BINARY[kernelName]!;
  return {
    kernelName,
    run: ({ inputs, backend, addon }) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== b.dtype) return decline(`mixed dtypes ${a.dtype} and ${b.dtype}`);
      const dtypeOk = spec.logical ? a.dtype === 'bool' : a.dtype === 'float32' || (a.dtype === 'int32' && spec.int32);
      if (!dtypeOk) return decline(`dtype ${a.dtype}`);
      // CHWN operands (a single value beside them): the op on the stored order. The broadcast shape is
      // worked out only when an operand is stored CHWN: this is every small op's path too.
      const chwnCandidate = a.dtype === 'float32' && !spec.compare && !spec.logical && (backend.chwnValues(a) !== undefined || backend.chwnValues(b) !== undefined);
      const outShape = chwnCandidate ? tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape) : [];
      const stored = chwnCandidate ? storedChwn(backend, outShape, [a, b]) : undefined;
      if (stored) {
        const [sa, sb] = stored as [{ values: Float32Array; stride: number }, { values: Float32Array; stride: number }];
        const out = chwnOutput(backend, outShape);
        if (out.values.length > 0) addon.tensors.binary(spec.op, ints([out.values.length]), sa.values, ints([sa.stride]), sb.values, ints([sb.stride]), out.values);
        return out.info;
      }
      const av = typed(backend, a, kernelName);
      const bv = typed(backend, b, kernelName);
      if (!av || !bv) return decline('inputs not stored as typed arrays');
      const plan = broadcastPlan(a.shape, b.shape);
      if (plan.dims.length > 8) return decline(`rank ${plan.dims.length} after collapsing dimensions`);
      const out = output(backend, plan.outShape, spec.compare || spec.logical ? 'bool' : a.dtype as 'float32' | 'int32', 'any');
      if (out.values.length === 0 || anyEmpty(a, b)) return out.info;
      addon.tensors.binary(spec.op, ints(plan.dims), av, ints(plan.aStrides), bv, ints(plan.bStrides), out.values);
      return out.info;
    },
  };
}

type UnarySpec = { op: number; alpha?: (attrs: Record<string, unknown>) => number; beta?: (attrs: Record<string, unknown>) => number };

const UNARY: Record<string, UnarySpec> = {
  [tf.Neg]: { op: 0 },
  [tf.Abs]: { op: 1 },
  [tf.Exp]: { op: 2 },
  [tf.Log]: { op: 3 },
  [tf.Sqrt]: { op: 4 },
  [tf.Rsqrt]: { op: 5 },
  [tf.Square]: { op: 6 },
  [tf.Reciprocal]: { op: 7 },
  [tf.Relu]: { op: 8 },
  [tf.Relu6]: { op: 9 },
  [tf.Sigmoid]: { op: 10 },
  [tf.Tanh]: { op: 11 },
  [tf.Step]: { op: 12, alpha: (a) => Number(a['alpha'] ?? 0) },
  [tf.LeakyRelu]: { op: 13, alpha: (a) => Number(a['alpha'] ?? 0.2) },
  [tf.Elu]: { op: 14 },
  [tf.Sign]: { op: 15 },
  [tf.Floor]: { op: 16 },
  [tf.Ceil]: { op: 17 },
  [tf.Erf]: { op: 18 },
  [tf.Softplus]: { op: 19 },
  [tf.Log1p]: { op: 20 },
  [tf.Expm1]: { op: 21 },
  [tf.ClipByValue]: { op: 22, alpha: (a) => Number(a['clipValueMin']), beta: (a) => Number(a['clipValueMax']) },
  [tf.Round]: { op: 23 },
};

function unaryKernel(kernelName: string): NativeKernel {
  const spec = UNARY[kernelName]!;
  return {
    kernelName,
    run: ({ inputs, attrs, backend, addon }) => {
      const { x } = inputs as { x: TensorInfo };
      const xc = backend.chwnValues(x);
      const xv = xc ?? f32(backend, x, kernelName);
      if (!xv) return decline(`dtype ${x.dtype}`);
      const out = xc ? chwnOutput(backend, x.shape) : output(backend, x.shape, 'float32', 'any');
      if (xv.length > 0) addon.tensors.unary(spec.op, xv, out.values, spec.alpha?.(attrs) ?? 0, spec.beta?.(attrs) ?? 0);
      return out.info;
    },
  };
}

// Casts the addon does exactly as tfjs-backend-cpu (float32 -> int32 is not one: JavaScript's ToInt32 wraps).
const NATIVE_CASTS = new Set(['int32>float32', 'bool>float32', 'bool>int32', 'float32>bool', 'int32>bool']);

const cast: NativeKernel = {
  kernelName: tf.Cast,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x } = inputs as { x: TensorInfo };
    const dtype = attrs['dtype'] as tf.DataType;
    if (dtype === x.dtype && dtype !== 'string' && dtype !== 'complex64') return share(backend, x);
    if (!NATIVE_CASTS.has(`${x.dtype}>${dtype}`)) return decline(`cast ${x.dtype} to ${dtype}`);
    const xv = typed(backend, x, tf.Cast);
    if (!xv) return decline('input not stored as a typed array');
    const out = output(backend, x.shape, dtype as 'float32' | 'int32' | 'bool', 'any');
    addon.tensors.cast(xv, out.values);
    return out.info;
  },
};

const addN: NativeKernel = {
  kernelName: tf.AddN,
  run: ({ inputs, backend, addon }) => {
    // All stored CHWN (summed gradients of a CHWN activation): the sum stays CHWN.
    const parts = Object.values(inputs).filter((t): t is TensorInfo => t !== undefined);
    const stored = parts.map((t) => (tf.util.arraysEqual(t.shape, parts[0]!.shape) ? backend.chwnValues(t) : undefined));
    if (parts.length > 0 && stored.every((v) => v !== undefined)) {
      const out = chwnOutput(backend, parts[0]!.shape);
      if (out.values.length > 0) addon.tensors.addN(stored as Float32Array[], out.values);
      return out.info;
    }
    const list = listOf(backend, tf.AddN, inputs);
    if (typeof list === 'string') return decline(list);
    const first = list.infos[0]!;
    if (first.dtype !== 'float32') return decline(`dtype ${first.dtype}`);
    if (list.infos.some((t) => !tf.util.arraysEqual(t.shape, first.shape))) return decline('shapes differ');
    const out = output(backend, first.shape, 'float32', 'any');
    if (out.values.length > 0) addon.tensors.addN(list.values as Float32Array[], out.values);
    return out.info;
  },
};

const isFinite: NativeKernel = {
  kernelName: tf.IsFinite,
  run: ({ inputs, backend, addon }) => {
    const { x } = inputs as { x: TensorInfo };
    const xv = f32(backend, x, tf.IsFinite);
    if (!xv || typeof addon.tensors.isFinite !== 'function') return decline(xv ? 'the addon was built without isFinite (rebuild it)' : `dtype ${x.dtype}`);
    const out = output(backend, x.shape, 'bool', 'any');
    if (xv.length > 0) addon.tensors.isFinite(xv, out.values);
    return out.info;
  },
};

// tf.where (the optimisers' gated writes on every weight and slot): tfjs-core broadcasts the condition first,
// so the kernel sees three tensors of one shape.
const select: NativeKernel = {
  kernelName: tf.Select,
  run: ({ inputs, backend, addon }) => {
    const { condition, t, e } = inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
    if (!tf.util.arraysEqual(condition.shape, t.shape) || !tf.util.arraysEqual(t.shape, e.shape)) return decline('condition, t and e of different shapes');
    if (t.dtype !== e.dtype || (t.dtype !== 'float32' && t.dtype !== 'int32')) return decline(`dtypes ${t.dtype} and ${e.dtype}`);
    if (typeof addon.tensors.select !== 'function') return decline('the addon was built without select (rebuild it)');
    const cv = typed(backend, condition, tf.Select);
    const tv = typed(backend, t, tf.Select);
    const ev = typed(backend, e, tf.Select);
    if (!(cv instanceof Uint8Array) || !tv || !ev || tv instanceof Uint8Array || ev instanceof Uint8Array) return decline(`condition of dtype ${condition.dtype}`);
    const out = output(backend, t.shape, t.dtype, 'any');
    if (out.values.length > 0) addon.tensors.select(cv, tv, ev, out.values as Float32Array | Int32Array);
    return out.info;
  },
};

export const ELEMENTWISE_KERNELS: NativeKernel[] = [
  select,
  isFinite,
  addN,
  ...Object.keys(BINARY).map(binaryKernel),
  ...Object.keys(UNARY).map(unaryKernel),
  cast,
];
