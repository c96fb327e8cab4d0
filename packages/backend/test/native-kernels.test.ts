// Every kernel the native backend implements, against tfjs-backend-cpu's kernel of the same name on the same
// inputs (core's fused ops: against core's JS reference kernels): random shapes and attributes, broadcasting,
// odd sizes, sizes past the threshold where the kernels go multi-threaded, NaN and ±Infinity in the inputs.
// Each case also checks that the native kernel ran (not a fallback to the JS kernel). Skipped when the addon
// is not built.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { nativeBackendRegistration, NATIVE_BACKEND_NAME, registerWasmTrainingKernels } from '@sparse-ift/backend';
import {
  ADAMW_UPDATE, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, DROPOUT, SGD_UPDATE, GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD, MASKED_CONV2D, MASKED_CONV2D_GRAD, MASKED_MATMUL, MASKED_MATMUL_GRAD,
  batchNormTrainGradReference, dropoutReference, type DropoutAttrs, batchNormTrainReference, geluGradReference, geluReference, layerNormGradReference, layerNormReference,
  maskedConv2dGradReference, maskedConv2dReference, type MaskedConv2DAttrs,
} from '@sparse-ift/core';
import { NATIVE_BACKEND_BUILT, randInt, randn, rng, useBackend } from './helpers.js';

type DType = 'float32' | 'int32' | 'bool';
type Values = Float32Array | Int32Array | Uint8Array;
interface In { shape: number[]; dtype: DType; values: Values }
interface Out { shape: number[]; dtype: string; values: Values }

interface KernelCase {
  name: string;
  inputs: Record<string, In> | In[];
  attrs?: Record<string, unknown>;
  /** Per-element tolerance: |ours − ref| <= atol + rtol·|ref| (NaN and ±Inf must match exactly). */
  rtol?: number;
  atol?: number;
  /** The reference, when it is not tfjs-backend-cpu's kernel of the same name. */
  reference?: (inputs: Record<string, In>, attrs: Record<string, unknown>) => Out[];
}

const R = rng(20250101);
const int = (lo: number, hi: number) => randInt(R, lo, hi);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Normal floats with some NaN, +Inf and -Inf sprinkled in (when `special`). */
function floats(shape: number[], special = false, scale = 1): In {
  const v = randn(R, size(shape)).map((x) => x * scale);
  if (special && v.length > 0) for (const s of [NaN, Infinity, -Infinity, NaN]) v[int(0, v.length - 1)] = s;
  return { shape, dtype: 'float32', values: v };
}
function ints(shape: number[], lo: number, hi: number): In {
  return { shape, dtype: 'int32', values: Int32Array.from({ length: size(shape) }, () => int(lo, hi)) };
}
function bools(shape: number[]): In {
  return { shape, dtype: 'bool', values: Uint8Array.from({ length: size(shape) }, () => int(0, 1)) };
}
function randomShape(rank: number, max = 7): number[] {
  return Array.from({ length: rank }, () => int(1, max));
}
/** Two shapes that broadcast to `out` (leading dims dropped, some dims set to 1). */
function broadcastPair(out: number[]): [number[], number[]] {
  const drop = (s: number[]) => s.slice(int(0, s.length)).map((d) => (R() < 0.3 ? 1 : d));
  return [R() < 0.5 ? out : drop(out), drop(out)];
}
/** Distinct values (no ties) for max pooling. */
function distinct(shape: number[]): In {
  const n = size(shape);
  const v = Float32Array.from({ length: n }, (_, i) => i / n - 0.5);
  for (let i = n - 1; i > 0; i--) {
    const j = int(0, i);
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return { shape, dtype: 'float32', values: v };
}

const BINARY_FLOAT = [tf.Add, tf.Sub, tf.Multiply, tf.RealDiv, tf.Maximum, tf.Minimum, tf.SquaredDifference, tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual, tf.Equal, tf.NotEqual];
const BINARY_INT = [tf.Add, tf.Sub, tf.Multiply, tf.Maximum, tf.Minimum, tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual, tf.Equal, tf.NotEqual];
const UNARY: [string, Record<string, unknown>?][] = [
  [tf.Neg], [tf.Abs], [tf.Exp], [tf.Log], [tf.Sqrt], [tf.Rsqrt], [tf.Square], [tf.Reciprocal], [tf.Relu], [tf.Relu6], [tf.Sigmoid],
  [tf.Tanh], [tf.Step, { alpha: 0.25 }], [tf.LeakyRelu, { alpha: 0.1 }], [tf.Elu], [tf.Sign], [tf.Floor], [tf.Ceil], [tf.Erf],
  [tf.Softplus], [tf.Log1p], [tf.Expm1], [tf.ClipByValue, { clipValueMin: -0.5, clipValueMax: 0.75 }], [tf.Round],
];

function convCase(kernel: string): KernelCase {
  const kh = int(1, 4), kw = int(1, 4);
  const dil = kernel === tf.Conv2D && R() < 0.25 ? 2 : 1;
  const strides = dil > 1 ? [1, 1] : [int(1, 3), int(1, 3)];
  const n = int(1, 3), h = int(kh * dil, 12), w = int(kw * dil, 12), c = int(1, 9), o = int(1, 9);
  const pad = R() < 0.5 ? 'same' : 'valid';
  const info = tf.backend_util.computeConv2DInfo([n, h, w, c], [kh, kw, c, o], strides as [number, number], dil, pad);
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: dil, dimRoundingMode: undefined };
  const name = `x[${n},${h},${w},${c}] w[${kh},${kw},${c},${o}] strides ${strides} dilation ${dil} ${pad}`;
  const dy = floats([n, info.outHeight, info.outWidth, o], true);
  if (kernel === tf.Conv2DBackpropInput) return { name, inputs: { dy, filter: floats([kh, kw, c, o]) }, attrs: { ...attrs, inputShape: [n, h, w, c] }, rtol: 1e-4, atol: 1e-4 };
  if (kernel === tf.Conv2DBackpropFilter) return { name, inputs: { x: floats([n, h, w, c], true), dy: floats(dy.shape) }, attrs: { ...attrs, filterShape: [kh, kw, c, o] }, rtol: 1e-4, atol: 1e-4 };
  return { name, inputs: { x: floats([n, h, w, c], true), filter: floats([kh, kw, c, o]) }, attrs: kernel === tf.FusedConv2D ? { ...attrs, activation: 'linear' } : attrs, rtol: 1e-4, atol: 1e-4 };
}

function matmulCase(fused: boolean): KernelCase {
  const m = int(1, 40), k = int(1, 40), n = int(1, 40);
  const tA = R() < 0.5, tB = R() < 0.5;
  const batch = [[], [int(2, 4)], [2, int(2, 3)]][int(0, 2)]!;
  const bA = batch.length && R() < 0.25 ? batch.map(() => 1) : batch;
  const bB = batch.length && bA === batch && R() < 0.33 ? batch.map(() => 1) : batch;
  const inputs: Record<string, In> = {
    a: floats([...bA, ...(tA ? [k, m] : [m, k])], true),
    b: floats([...bB, ...(tB ? [n, k] : [k, n])]),
  };
  const activation = fused ? (['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid'] as const)[int(0, 5)] : undefined;
  if (fused && R() < 0.7) inputs['bias'] = floats([n]);
  return {
    name: `a[${inputs['a']!.shape}] b[${inputs['b']!.shape}] transposeA=${tA} transposeB=${tB}${fused ? ` bias=${'bias' in inputs} ${activation}` : ''}`,
    inputs,
    attrs: { transposeA: tA, transposeB: tB, ...(fused ? { activation, leakyreluAlpha: 0.2 } : {}) },
    rtol: 1e-4, atol: 1e-4,
  };
}

function poolCase(kernel: string): KernelCase {
  const f = int(1, 3), s = int(1, 3), n = int(1, 3), h = int(f, 10), w = int(f, 10), c = int(1, 9);
  const pad = R() < 0.5 ? 'same' : 'valid';
  const attrs = { filterSize: f, strides: s, pad, dimRoundingMode: undefined };
  const x = kernel.startsWith('Max') ? distinct([n, h, w, c]) : floats([n, h, w, c], true);
  const name = `x[${n},${h},${w},${c}] filter ${f} stride ${s} ${pad}`;
  if (!kernel.endsWith('Grad')) return { name, inputs: { x }, attrs, rtol: 1e-5, atol: 1e-6 };
  const info = tf.backend_util.computePool2DInfo([n, h, w, c], f, s, 1, pad);
  const dy = floats([n, info.outHeight, info.outWidth, c]);
  if (kernel === tf.AvgPoolGrad) return { name, inputs: { dy, input: x }, attrs, rtol: 1e-5, atol: 1e-6 };
  return { name, inputs: { dy, input: x }, attrs, rtol: 1e-6, atol: 1e-7 }; // + output = MaxPool(input), made by run()
}

function fusedReference(kernel: string): KernelCase['reference'] {
  const f = (i: In) => i.values as Float32Array;
  const out = (shape: number[], values: Float32Array): Out => ({ shape, dtype: 'float32', values });
  return (inputs, attrs) => {
    const a = attrs as never;
    switch (kernel) {
      case BATCH_NORM_TRAIN: {
        const r = batchNormTrainReference(f(inputs['x']!), f(inputs['gamma']!), f(inputs['beta']!), inputs['residual'] && f(inputs['residual']), a);
        return [out(inputs['x']!.shape, r.y), out([r.mean.length], r.mean), out([r.mean.length], r.variance)];
      }
      case BATCH_NORM_TRAIN_GRAD: {
        const r = batchNormTrainGradReference(f(inputs['dy']!), f(inputs['x']!), f(inputs['gamma']!), f(inputs['mean']!), f(inputs['variance']!), f(inputs['y']!), a);
        const C = r.dgamma.length;
        return [out(inputs['x']!.shape, r.dx), out([C], r.dgamma), out([C], r.dbeta), ...(r.dresidual ? [out(inputs['x']!.shape, r.dresidual)] : [])];
      }
      case LAYER_NORM: {
        const r = layerNormReference(f(inputs['x']!), f(inputs['gamma']!), f(inputs['beta']!), (attrs as { epsilon: number }).epsilon);
        return [out(inputs['x']!.shape, r.y), out([r.mean.length], r.mean), out([r.mean.length], r.rstd)];
      }
      case LAYER_NORM_GRAD: {
        const r = layerNormGradReference(f(inputs['dy']!), f(inputs['x']!), f(inputs['gamma']!), f(inputs['mean']!), f(inputs['rstd']!));
        const S = r.dgamma.length;
        return [out(inputs['x']!.shape, r.dx), out([S], r.dgamma), out([S], r.dbeta)];
      }
      case GELU:
        return [out(inputs['x']!.shape, geluReference(f(inputs['x']!), (attrs as { approximate: 'erf' | 'tanh' }).approximate))];
      default:
        return [out(inputs['x']!.shape, geluGradReference(f(inputs['dy']!), f(inputs['x']!), (attrs as { approximate: 'erf' | 'tanh' }).approximate))];
    }
  };
}

/** Random cases per kernel name; every native kernel must have an entry (checked below). */
const CASES: Record<string, () => KernelCase[]> = {};
for (const k of BINARY_FLOAT) {
  CASES[k] = () => {
    const cases: KernelCase[] = [];
    for (let i = 0; i < 8; i++) {
      const out = i === 7 ? [int(150, 200), int(200, 260)] : randomShape(int(0, 5));
      const [a, b] = broadcastPair(out);
      const int32 = BINARY_INT.includes(k) && i % 3 === 2;
      cases.push({
        name: `${int32 ? 'int32' : 'float32'} [${a}] op [${b}]`,
        inputs: { a: int32 ? ints(a, -50, 50) : floats(a, true), b: int32 ? ints(b, -50, 50) : floats(b, true) },
        rtol: 1e-6,
      });
    }
    return cases;
  };
}
for (const [k, attrs] of UNARY) {
  CASES[k] = () => [randomShape(int(1, 4)), [int(300, 400), 128]].map((shape) => ({ name: `[${shape}]`, inputs: { x: floats(shape, true, 3) }, attrs, rtol: 2e-6, atol: 1e-7 }));
}
CASES[tf.Cast] = () => {
  const shape = randomShape(3);
  return ([['int32', 'float32'], ['bool', 'float32'], ['bool', 'int32'], ['float32', 'bool'], ['int32', 'bool'], ['float32', 'float32']] as const).map(([from, to]) => ({
    name: `${from} -> ${to} [${shape}]`,
    inputs: { x: from === 'float32' ? floats(shape, true) : from === 'int32' ? ints(shape, -3, 3) : bools(shape) },
    attrs: { dtype: to },
  }));
};
CASES[tf.AddN] = () => [1, 2, 4].map((n) => {
  const shape = n === 4 ? [300, 200] : randomShape(3);
  return { name: `${n} x [${shape}]`, inputs: Array.from({ length: n }, () => floats(shape, true)), rtol: 1e-6 };
});
for (const k of [tf.Sum, tf.Mean, tf.Max, tf.Min, tf.Prod]) {
  CASES[k] = () => [...Array.from({ length: 8 }, (_, i) => {
    const shape = i === 7 ? [64, 300, 32] : randomShape(int(1, 4));
    const axes = shape.map((_, d) => d).filter(() => R() < 0.5);
    const keepDims = R() < 0.5;
    return {
      name: `[${shape}] axes [${axes}] keepDims ${keepDims}`,
      inputs: { x: floats(shape, i % 2 === 0, k === tf.Prod ? 0.3 : 1) },
      attrs: k === tf.Max ? { reductionIndices: axes, keepDims } : { axis: axes, keepDims },
      rtol: 1e-5, atol: 1e-6,
    };
  }), ...(k === tf.Sum ? [{ name: 'int32 [5,7,3] axes [0,2]', inputs: { x: ints([5, 7, 3], -1000, 1000) }, attrs: { axis: [0, 2], keepDims: false } }] : [])];
}
CASES[tf.Softmax] = () => [randomShape(1), randomShape(2), [int(100, 200), int(300, 400)], randomShape(3)].map((shape, i) => ({
  name: `[${shape}]`, inputs: { logits: floats(shape, i === 1, 3) }, attrs: { dim: -1 }, rtol: 1e-5, atol: 1e-7,
}));
for (const k of [tf.ArgMax, tf.ArgMin]) {
  CASES[k] = () => Array.from({ length: 4 }, () => {
    const shape = randomShape(int(1, 4));
    const axis = int(0, shape.length - 1);
    return { name: `[${shape}] axis ${axis}`, inputs: { x: floats(shape, true) }, attrs: { axis } };
  });
}
CASES[tf.Transpose] = () => Array.from({ length: 8 }, (_, i) => {
  const shape = i === 7 ? [16, 80, 3, 64] : randomShape(int(1, 6), 6);
  const perm = shape.map((_, d) => d).sort(() => R() - 0.5);
  const dtype = (['float32', 'int32', 'bool'] as const)[i % 3];
  return { name: `${dtype} [${shape}] perm [${perm}]`, inputs: { x: dtype === 'float32' ? floats(shape, true) : dtype === 'int32' ? ints(shape, -9, 9) : bools(shape) }, attrs: { perm } };
});
CASES[tf.Tile] = () => Array.from({ length: 5 }, () => {
  const shape = randomShape(int(1, 4), 5);
  const reps = shape.map(() => int(1, 3));
  return { name: `[${shape}] reps [${reps}]`, inputs: { x: floats(shape, true) }, attrs: { reps } };
});
CASES[tf.GatherV2] = () => Array.from({ length: 5 }, () => {
  const shape = randomShape(int(1, 4));
  const axis = int(0, shape.length - 1);
  const indices = ints(randomShape(int(1, 2)), 0, shape[axis]! - 1);
  return { name: `[${shape}] axis ${axis} indices [${indices.shape}]`, inputs: { x: floats(shape, true), indices }, attrs: { axis, batchDims: 0 } };
});
// No NaN/Inf here: tfjs-backend-cpu sums segment s as sum(mask_s · x), so a NaN in any row reaches every
// segment (0 · NaN); the native kernel, as TensorFlow, sums only the rows of the segment (tested below).
CASES[tf.UnsortedSegmentSum] = () => Array.from({ length: 4 }, () => {
  const shape = randomShape(int(1, 3));
  const numSegments = int(1, 6);
  return {
    name: `[${shape}] into ${numSegments}`,
    inputs: { x: floats(shape), segmentIds: ints([shape[0]!], -1, numSegments) }, // -1 and numSegments: dropped
    attrs: { numSegments }, rtol: 1e-6,
  };
});
CASES[tf.Slice] = () => Array.from({ length: 6 }, (_, i) => {
  const shape = randomShape(int(1, 5));
  const begin = shape.map((d) => int(0, d - 1));
  const sz = shape.map((d, j) => (i % 2 === 0 && j > 0 ? d - begin[j]! : int(1, d - begin[j]!)));
  return { name: `[${shape}] begin [${begin}] size [${sz}]`, inputs: { x: floats(shape, true) }, attrs: { begin, size: sz } };
});
CASES[tf.PadV2] = () => Array.from({ length: 4 }, (_, i) => {
  const shape = randomShape(int(1, 4));
  const paddings = shape.map(() => [int(0, 2), int(0, 2)]);
  return { name: `[${shape}] pad ${JSON.stringify(paddings)}`, inputs: { x: floats(shape, true) }, attrs: { paddings, constantValue: i % 2 ? 0 : 1.5 } };
});
CASES[tf.Concat] = () => Array.from({ length: 4 }, () => {
  const shape = randomShape(int(1, 4));
  const axis = int(0, shape.length - 1);
  const parts = Array.from({ length: int(1, 4) }, () => floats(shape.map((d, j) => (j === axis ? int(1, 4) : d)), true));
  return { name: `${parts.length} parts along ${axis} of [${shape}]`, inputs: parts, attrs: { axis } };
});
CASES[tf.Pack] = () => Array.from({ length: 3 }, () => {
  const shape = randomShape(int(0, 3));
  const axis = int(0, shape.length);
  return { name: `${3} x [${shape}] at ${axis}`, inputs: [floats(shape, true), floats(shape), floats(shape)], attrs: { axis } };
});
CASES[tf.SplitV] = () => Array.from({ length: 4 }, () => {
  const shape = randomShape(int(1, 4));
  const axis = int(0, shape.length - 1);
  const sizes: number[] = [];
  for (let left = shape[axis]!; left > 0; ) left -= sizes[sizes.push(int(1, left)) - 1]!;
  return { name: `[${shape}] along ${axis} into [${sizes}]`, inputs: { x: floats(shape, true) }, attrs: { numOrSizeSplits: sizes, axis } };
});
CASES[tf.Unpack] = () => Array.from({ length: 3 }, () => {
  const shape = randomShape(int(1, 4));
  const axis = int(0, shape.length - 1);
  return { name: `[${shape}] along ${axis}`, inputs: { value: floats(shape, true) }, attrs: { axis } };
});
CASES[tf.Reshape] = () => [{ name: '[2,3,4] -> [4,-1]', inputs: { x: floats([2, 3, 4]) }, attrs: { shape: [4, -1] } }];
CASES[tf.Identity] = () => [{ name: '[3,5]', inputs: { x: floats([3, 5], true) } }];
CASES[tf.ExpandDims] = () => [{ name: '[3,5] at -1', inputs: { input: floats([3, 5]) }, attrs: { dim: -1 } }];
CASES[tf.ZerosLike] = () => [{ name: 'float32', inputs: { x: floats([300, 300]) } }, { name: 'int32', inputs: { x: ints([7], 0, 5) } }];
CASES[tf.OnesLike] = () => [{ name: 'float32', inputs: { x: floats([300, 300]) } }, { name: 'bool', inputs: { x: bools([5]) } }];
CASES[tf.Fill] = () => [{ name: 'float32 [300,300] 2.5', inputs: {}, attrs: { shape: [300, 300], value: 2.5, dtype: 'float32' } }, { name: 'int32 [4] 0', inputs: {}, attrs: { shape: [4], value: 0, dtype: 'int32' } }];
CASES[tf.OneHot] = () => (['float32', 'int32'] as const).map((dtype) => ({
  name: dtype, inputs: { indices: ints([int(1, 9), 3], -1, 6) }, attrs: { depth: 6, onValue: 2, offValue: -1, dtype },
}));
for (const k of [tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.FusedConv2D]) CASES[k] = () => Array.from({ length: 6 }, () => convCase(k));
CASES[tf.BatchMatMul] = () => Array.from({ length: 8 }, () => matmulCase(false));
CASES[tf._FusedMatMul] = () => Array.from({ length: 8 }, () => matmulCase(true));
for (const k of [tf.MaxPool, tf.MaxPoolGrad, tf.AvgPool, tf.AvgPoolGrad]) CASES[k] = () => Array.from({ length: 5 }, () => poolCase(k));
CASES[tf.FusedBatchNorm] = () => [randomShape(2), randomShape(4), [64, 9, 9, 67]].map((shape) => {
  const C = shape[shape.length - 1]!;
  return {
    name: `[${shape}]`,
    inputs: { x: floats(shape, true), mean: floats([C]), variance: { shape: [C], dtype: 'float32' as const, values: Float32Array.from({ length: C }, () => 0.1 + R()) }, offset: floats([C]), scale: floats([C]) },
    attrs: { varianceEpsilon: 1e-3 }, rtol: 1e-5, atol: 1e-5,
  };
});
CASES[BATCH_NORM_TRAIN] = () => [[5, 3], [2, 5, 7, 64], [3, 7, 9, 130]].flatMap((shape, i) => {
  const C = shape[shape.length - 1]!;
  const inputs: Record<string, In> = { x: floats(shape), gamma: floats([C]), beta: floats([C]) };
  if (i > 0) inputs['residual'] = floats(shape);
  return [{ name: `[${shape}] relu residual=${i > 0}`, inputs, attrs: { epsilon: 1e-5, relu: true, residual: i > 0 }, rtol: 1e-4, atol: 1e-5, reference: fusedReference(BATCH_NORM_TRAIN) }];
});
CASES[BATCH_NORM_TRAIN_GRAD] = () => [[6, 3], [2, 5, 7, 64]].map((shape, i) => {
  const C = shape[shape.length - 1]!;
  const x = floats(shape);
  const fwd = batchNormTrainReference(x.values as Float32Array, new Float32Array(C).fill(1), new Float32Array(C), undefined, { epsilon: 1e-5, relu: true, residual: false });
  return {
    name: `[${shape}] relu residual=${i > 0}`,
    inputs: { dy: floats(shape), x, gamma: floats([C]), mean: { shape: [C], dtype: 'float32', values: fwd.mean }, variance: { shape: [C], dtype: 'float32', values: fwd.variance }, y: { shape, dtype: 'float32', values: fwd.y } },
    attrs: { epsilon: 1e-5, relu: true, residual: i > 0 }, rtol: 1e-4, atol: 1e-4, reference: fusedReference(BATCH_NORM_TRAIN_GRAD),
  };
});
CASES[LAYER_NORM] = () => [[3, 5], [4, 9, 67]].map((shape) => {
  const S = shape[shape.length - 1]!;
  return { name: `[${shape}]`, inputs: { x: floats(shape), gamma: floats([S]), beta: floats([S]) }, attrs: { epsilon: 1e-5 }, rtol: 1e-4, atol: 1e-5, reference: fusedReference(LAYER_NORM) };
});
CASES[LAYER_NORM_GRAD] = () => [[3, 5], [4, 9, 67]].map((shape) => {
  const S = shape[shape.length - 1]!;
  const x = floats(shape);
  const fwd = layerNormReference(x.values as Float32Array, new Float32Array(S).fill(1), new Float32Array(S), 1e-5);
  const rows = fwd.mean.length;
  return {
    name: `[${shape}]`,
    inputs: { dy: floats(shape), x, gamma: floats([S]), mean: { shape: [rows], dtype: 'float32', values: fwd.mean }, rstd: { shape: [rows], dtype: 'float32', values: fwd.rstd } },
    attrs: { epsilon: 1e-5 }, rtol: 1e-4, atol: 1e-4, reference: fusedReference(LAYER_NORM_GRAD),
  };
});
CASES[GELU] = () => (['erf', 'tanh'] as const).map((approximate) => ({ name: approximate, inputs: { x: floats([257, 129], true, 3) }, attrs: { approximate }, rtol: 1e-5, atol: 1e-6, reference: fusedReference(GELU) }));
CASES[GELU_GRAD] = () => (['erf', 'tanh'] as const).map((approximate) => ({ name: approximate, inputs: { dy: floats([257, 129]), x: floats([257, 129], true, 3) }, attrs: { approximate }, rtol: 1e-4, atol: 1e-5, reference: fusedReference(GELU_GRAD) }));
for (const k of [tf.LogicalAnd, tf.LogicalOr]) {
  CASES[k] = () => [randomShape(int(0, 4)), [int(150, 200), int(200, 260)]].map((out) => {
    const [a, b] = broadcastPair(out);
    return { name: `[${a}] op [${b}]`, inputs: { a: bools(a), b: bools(b) } };
  });
}
CASES[tf.IsFinite] = () => [randomShape(int(1, 4)), [int(300, 400), 128]].map((shape) => ({ name: `[${shape}]`, inputs: { x: floats(shape, true) } }));
CASES[tf.Select] = () => [randomShape(int(1, 4)), [int(300, 400), 128]].flatMap((shape) => (['float32', 'int32'] as const).map((dtype) => ({
  name: `${dtype} [${shape}]`,
  inputs: { condition: bools(shape), t: dtype === 'float32' ? floats(shape, true) : ints(shape, -9, 9), e: dtype === 'float32' ? floats(shape, true) : ints(shape, -9, 9) },
})));
// Bit for bit core's Philox reference: sizes not a multiple of four, past the threading threshold, extreme words.
CASES[DROPOUT] = () => ([[[7], 0.5, [1, 2], [0, 0, 0]], [[257, 129], 0.1, [0xffffffff, 0x9e3779b9], [123, 0xffffffff, 5]], [[3, 5, 11], 0.9, [42, 7], [1, 2, 3]]] as const).map(([shape, rate, key, counter]) => ({
  name: `[${shape}] rate ${rate}`,
  inputs: { x: floats([...shape], true, 3) },
  attrs: { rate, key: [...key], counter: [...counter] },
  reference: (inputs: Record<string, In>, attrs: Record<string, unknown>) => [{ shape: inputs['x']!.shape, dtype: 'float32', values: dropoutReference(inputs['x']!.values as Float32Array, attrs as unknown as DropoutAttrs) }],
}));

// Core's fused optimizer updates against its composed ops' float32 operations, in their order, in
// JavaScript (exactly: no fused multiply-adds); test/optimizer-update.test.ts checks the cpu backend's
// composed ops and PyTorch's equations in float64. A false gate returns the inputs.
const f32 = Math.fround;
function gate(open: boolean): In {
  return { shape: [], dtype: 'bool', values: Uint8Array.of(open ? 1 : 0) };
}
/** Outputs: the named inputs that are present, updated per element by `update(i)` (or copied when the gate is closed). */
function optimizerReference(names: string[], update: (i: number) => number[]) {
  return (inputs: Record<string, In>): Out[] => {
    const present = names.filter((n) => inputs[n]);
    const n = inputs['w']!.values.length;
    const out = present.map(() => new Float32Array(n));
    const open = !inputs['onlyIf'] || inputs['onlyIf'].values[0] !== 0;
    for (let i = 0; i < n; i++) {
      const next = open ? update(i) : present.map((name) => Number(inputs[name]!.values[i]));
      next.forEach((x, k) => (out[k]![i] = x));
    }
    return out.map((values) => ({ shape: inputs['w']!.shape, dtype: 'float32', values }));
  };
}
const SGD_CASES: { name: string; attrs: Record<string, number | boolean>; buffer: boolean; onlyIf?: boolean }[] = [
  { name: 'plain', attrs: { learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: false }, buffer: false },
  { name: 'momentum, first step, decay, gate open', attrs: { learningRate: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4, firstStep: true }, buffer: true, onlyIf: true },
  { name: 'Nesterov, decay', attrs: { learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-3, firstStep: false }, buffer: true },
  { name: 'dampening, gate closed', attrs: { learningRate: 0.1, momentum: 0.8, dampening: 0.3, nesterov: false, weightDecay: 0, firstStep: false }, buffer: true, onlyIf: false },
];
CASES[SGD_UPDATE] = () => SGD_CASES.map((c) => {
  const shape = [257, 129];
  const a = c.attrs as { learningRate: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; firstStep: boolean };
  return {
    name: c.name,
    inputs: { w: floats(shape, true), g: floats(shape, true), ...(c.buffer ? { momentum: floats(shape, true) } : {}), ...(c.onlyIf === undefined ? {} : { onlyIf: gate(c.onlyIf) }) },
    attrs: c.attrs,
    reference: (inputs: Record<string, In>) => optimizerReference(['w', 'momentum'], (i) => {
      const w = Number(inputs['w']!.values[i]);
      let g = Number(inputs['g']!.values[i]);
      if (a.weightDecay !== 0) g = f32(g + f32(w * f32(a.weightDecay)));
      if (!c.buffer) return [f32(w - f32(g * f32(a.learningRate)))];
      const b = Number(inputs['momentum']!.values[i]);
      const next = a.firstStep ? g : f32(f32(b * f32(a.momentum)) + f32(g * f32(1 - a.dampening)));
      const step = a.nesterov ? f32(g + f32(next * f32(a.momentum))) : next;
      return [f32(w - f32(step * f32(a.learningRate))), next];
    })(inputs),
  };
});
CASES[ADAMW_UPDATE] = () => ([
  { name: 'decay', amsgrad: false, decayFactor: 1 - 1e-5, onlyIf: undefined },
  { name: 'no decay, gate open', amsgrad: false, decayFactor: 1, onlyIf: true },
  { name: 'amsgrad', amsgrad: true, decayFactor: 1 - 1e-3, onlyIf: undefined },
  { name: 'amsgrad, gate closed', amsgrad: true, decayFactor: 1 - 1e-3, onlyIf: false },
] as const).map((c) => {
  const shape = [257, 129];
  const attrs = { decayFactor: c.decayFactor, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** 3), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), amsgrad: c.amsgrad };
  const positive = (i: In): In => ({ ...i, values: (i.values as Float32Array).map((x) => x * x) });
  return {
    name: c.name,
    inputs: {
      w: floats(shape, true), g: floats(shape, true), expAvg: floats(shape, true), expAvgSq: positive(floats(shape, true)),
      ...(c.amsgrad ? { maxExpAvgSq: positive(floats(shape, true)) } : {}), ...(c.onlyIf === undefined ? {} : { onlyIf: gate(c.onlyIf) }),
    },
    attrs,
    reference: (inputs: Record<string, In>) => optimizerReference(['w', 'expAvg', 'expAvgSq', 'maxExpAvgSq'], (i) => {
      const at = (name: string) => Number(inputs[name]!.values[i]);
      const g = at('g');
      const m = f32(f32(at('expAvg') * f32(attrs.beta1)) + f32(g * f32(1 - attrs.beta1)));
      const v = f32(f32(at('expAvgSq') * f32(attrs.beta2)) + f32(f32(g * g) * f32(1 - attrs.beta2)));
      const vMax = c.amsgrad ? Math.max(at('maxExpAvgSq'), v) : v;
      const denom = f32(f32(f32(Math.sqrt(vMax)) / f32(attrs.biasCorrection2Sqrt)) + f32(attrs.epsilon));
      const w = attrs.decayFactor !== 1 ? f32(at('w') * f32(attrs.decayFactor)) : at('w');
      const next = f32(w - f32(f32(m / denom) * f32(attrs.stepSize)));
      return c.amsgrad ? [next, m, v, vMax] : [next, m, v];
    })(inputs),
  };
});

/**
 * Core's masked products (whichever path the native backend picks for the shape) against core's float64
 * reference kernels, at densities 0.1, 0.5 and 1; a matmul x [m, k] · w [k, n] is the 1×1 conv of [m, 1, 1, k].
 */
function maskedCases(kernel: string): KernelCase[] {
  const conv = kernel === MASKED_CONV2D || kernel === MASKED_CONV2D_GRAD;
  const grad = kernel === MASKED_CONV2D_GRAD || kernel === MASKED_MATMUL_GRAD;
  return [0.1, 0.5, 1].map((density) => {
    const k = conv ? [1, 3][int(0, 1)]! : 1;
    const s = conv ? int(1, 2) : 1;
    const [n, h, w, c, o] = conv ? [int(1, 5), int(3, 9), int(3, 9), int(1, 12), int(1, 12)] : [int(1, 40), 1, 1, int(1, 40), int(1, 40)];
    const attrs: MaskedConv2DAttrs = { strides: [s, s], pad: conv && R() < 0.5 ? 'valid' : 'same', dilations: [1, 1] };
    const x4: [number, number, number, number] = [n, h, w, c];
    const w4: [number, number, number, number] = [k, k, c, o];
    const x = floats(conv ? x4 : [n, c]);
    const weights = floats(conv ? w4 : [c, o]);
    const mask: In = { shape: weights.shape, dtype: 'float32', values: Float32Array.from({ length: size(w4) }, () => (R() < density ? 1 : 0)) };
    const f = (i: In) => i.values as Float32Array;
    const y = maskedConv2dReference(f(x), x4, f(weights), f(mask), w4, attrs);
    const yShape = conv ? y.yShape : [n, o];
    const inputs: Record<string, In> = grad ? { dy: floats(yShape), x, kernel: weights, mask } : { x, kernel: weights, mask };
    const out = (shape: number[], values: Float64Array): Out => ({ shape, dtype: 'float32', values: Float32Array.from(values) });
    const reference = (ins: Record<string, In>): Out[] => {
      if (!grad) return [out(yShape, y.y)];
      const r = maskedConv2dGradReference(f(ins['dy']!), f(x), x4, f(weights), f(mask), w4, attrs);
      return [out(x.shape, r.dx), out(weights.shape, r.dkernel)];
    };
    return { name: `${conv ? `${k}x${k}/${s} ${attrs.pad} [${x4}]→${o}` : `[${n},${c}]·[${c},${o}]`} density ${density}`, inputs, attrs: { ...attrs }, rtol: 1e-4, atol: 1e-5, reference };
  });
}
for (const k of [MASKED_CONV2D, MASKED_CONV2D_GRAD, MASKED_MATMUL, MASKED_MATMUL_GRAD]) CASES[k] = () => maskedCases(k);

function read(t: TensorInfo): Out {
  const values = (tf.engine().readSync(t.dataId) as Values).slice();
  return { shape: t.shape, dtype: t.dtype, values };
}

/** Runs the kernel on the current backend; tensors made and freed here. */
function run(kernel: string, c: KernelCase, prep?: (inputs: Record<string, tf.Tensor>) => void): Out[] {
  return tf.tidy(() => {
    const make = (i: In) => tf.tensor(i.values, i.shape, i.dtype);
    const inputs = Array.isArray(c.inputs) ? c.inputs.map(make) : Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, make(v)]));
    if (prep && !Array.isArray(inputs)) prep(inputs);
    const out = tf.engine().runKernel(kernel, inputs as never, (c.attrs ?? {}) as NamedAttrMap) as TensorInfo | TensorInfo[];
    return (Array.isArray(out) ? out : [out]).map(read);
  });
}

function expectMatch(ours: Out[], ref: Out[], c: KernelCase, what: string): void {
  expect(ours.length, `${what}: number of outputs`).toBe(ref.length);
  ours.forEach((o, k) => {
    const e = ref[k]!;
    expect(o.shape, `${what}: output ${k} shape`).toEqual(e.shape);
    expect(o.dtype, `${what}: output ${k} dtype`).toBe(e.dtype);
    expect(o.values.length, `${what}: output ${k} size`).toBe(e.values.length);
    const rtol = c.rtol ?? 0, atol = c.atol ?? 0;
    let bad = -1;
    for (let i = 0; i < e.values.length && bad < 0; i++) {
      const a = Number(o.values[i]), b = Number(e.values[i]);
      const same = Number.isNaN(b) ? Number.isNaN(a) : !Number.isFinite(b) ? a === b : Math.abs(a - b) <= atol + rtol * Math.abs(b);
      if (!same) bad = i;
    }
    expect(bad, `${what}: output ${k} differs at ${bad}: native ${o.values[bad]} vs reference ${e.values[bad]}`).toBe(-1);
  });
}

describe.skipIf(!NATIVE_BACKEND_BUILT)('native backend kernels match tfjs-backend-cpu (and core\'s reference kernels)', () => {
  beforeAll(async () => {
    await useBackend('native');
    // The reference for AvgPoolGrad: this package's fix of cpu's kernel (it divides border windows by the
    // full window size, not by the taps the forward averaged).
    registerWasmTrainingKernels();
  });

  it('every native kernel has test cases here', () => {
    const reg = nativeBackendRegistration()!;
    const missing = [...reg.nativeKernels, ...reg.sharedKernels].filter((k) => !(k in CASES));
    expect(missing, 'native kernels without cases').toEqual([]);
  });

  for (const [kernel, make] of Object.entries(CASES)) {
    it(kernel, async () => {
      for (const c of make()) {
        const what = `${kernel} ${c.name}`;
        // MaxPoolGrad needs the forward's output: MaxPool of the input, on the backend that runs the case.
        const prepare = kernel === tf.MaxPoolGrad ? (i: Record<string, tf.Tensor>) => { i['output'] = tf.maxPool(i['input'] as tf.Tensor4D, c.attrs!['filterSize'] as number, c.attrs!['strides'] as number, c.attrs!['pad'] as 'same'); } : undefined;
        let ref: Out[];
        if (c.reference) {
          ref = c.reference(c.inputs as Record<string, In>, c.attrs ?? {});
        } else {
          await useBackend('cpu');
          ref = run(kernel, c, prepare);
        }
        await useBackend('native');
        const provenance = nativeBackendRegistration()!.provenance;
        provenance.reset();
        const ours = run(kernel, c, prepare);
        const ran = provenance.snapshot();
        expect(ran.fallback[kernel], `${what}: fell back to JS (${JSON.stringify(ran.fallback[kernel])})`).toBeUndefined();
        expect((ran.native[kernel] ?? 0) + (ran.shared[kernel] ?? 0), `${what}: the native kernel ran`).toBeGreaterThan(0);
        expectMatch(ours, ref, c, what);
      }
      expect(tf.getBackend()).toBe(NATIVE_BACKEND_NAME);
    });
  }

  it('UnsortedSegmentSum keeps a NaN in its own segment (hand-computed, as TensorFlow)', async () => {
    await useBackend('native');
    const x = tf.tensor2d([[1, NaN], [2, 3], [Infinity, 4]]);
    const out = tf.unsortedSegmentSum(x, tf.tensor1d([0, 1, 0], 'int32'), 2);
    expect(Array.from(out.dataSync())).toEqual([Infinity, NaN, 2, 3]);
  });
});
