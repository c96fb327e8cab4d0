/**
 * FLOP and parameter accounting, in two conventions (docs/flops.md#conventions):
 *
 * - `paper`: multiply-accumulates of the weighted layers only, a layer costing B·Din·Dout (a conv
 *   counts Din = kh·kw·Cin per output position); sparse layers cost density × that. This is the
 *   convention the iso-FLOP formulas are written in.
 * - `official`: the Cerebras counter (`cbsparse/sparse/utils/profiler_utils.py`): multiplies + adds
 *   (+ logical + other) of conv/linear/BN/LN/ReLU-module/pooling ops; a masked conv/linear's adds and
 *   multiplies are each scaled by its realised density and truncated to an integer, its bias adds are
 *   not. Functional ops (F.relu, F.avg_pool2d), residual adds and attention matmuls that are not modules
 *   are not counted: an op with `counted: false` reproduces that blind spot (docs/deviations.md#pitfall-counter-blind-spots).
 *
 * Model builders describe their forward pass as a list of {@link FlopOp}s (per sample) and ask this module.
 */
import type { SparseMethod } from './updaters.js';

import { solveSparseWideSparsity } from './isoflop.js';

export type FlopConvention = 'paper' | 'official';

interface WeightedOpBase {
  name: string;
  /** Realised density of the weight (1 for dense weights). */
  density: number;
  masked: boolean;
  bias: boolean;
}

export type FlopOp =
  | (WeightedOpBase & {
      kind: 'conv2d';
      kernelSize: [number, number];
      inChannels: number;
      outChannels: number;
      outHeight: number;
      outWidth: number;
    })
  | (WeightedOpBase & {
      kind: 'linear';
      inFeatures: number;
      outFeatures: number;
      /** Rows pushed through the matmul per sample (sequence length for transformers, 1 otherwise). */
      rows: number;
    })
  | { kind: 'batchnorm'; name: string; channels: number; spatial: number; affine: boolean }
  | { kind: 'layernorm'; name: string; rows: number; size: number; affine: boolean }
  | { kind: 'relu' | 'relu6' | 'gelu'; name: string; numel: number; counted: boolean }
  | { kind: 'maxpool2d'; name: string; kernel: number; outNumel: number }
  | { kind: 'avgpool2d'; name: string; kernel: number; outNumel: number; counted: boolean }
  | { kind: 'global-avgpool'; name: string; inNumel: number; outNumel: number; counted: boolean }
  | { kind: 'softmax'; name: string; numel: number; axisSize: number; counted: boolean }
  /** A matmul that is not a module (attention QKᵀ and AV): m×k by k×n per sample. */
  | { kind: 'matmul'; name: string; m: number; k: number; n: number; counted: boolean }
  | { kind: 'add'; name: string; numel: number; counted: boolean };

export interface OpCount {
  adds: number;
  multiplies: number;
  logical: number;
  other: number;
}

export interface OpFlops {
  name: string;
  kind: FlopOp['kind'];
  /** Dense cost of the instantiated (possibly widened) op. */
  dense: number;
  /** Cost at the op's realised density (equal to `dense` for unmasked ops). */
  sparse: number;
  masked: boolean;
}

const zero = (): OpCount => ({ adds: 0, multiplies: 0, logical: 0, other: 0 });
const total = (c: OpCount): number => c.adds + c.multiplies + c.logical + c.other;

/** Weight count of a conv or linear op (no bias). */
export function weightCount(op: Extract<FlopOp, { kind: 'conv2d' | 'linear' }>): number {
  return op.kind === 'conv2d'
    ? op.kernelSize[0] * op.kernelSize[1] * op.inChannels * op.outChannels
    : op.inFeatures * op.outFeatures;
}

/** Output positions (conv) or rows (linear) the weight is applied at, per sample. */
function positions(op: Extract<FlopOp, { kind: 'conv2d' | 'linear' }>): number {
  return op.kind === 'conv2d' ? op.outHeight * op.outWidth : op.rows;
}

function outFeatures(op: Extract<FlopOp, { kind: 'conv2d' | 'linear' }>): number {
  return op.kind === 'conv2d' ? op.outChannels : op.outFeatures;
}

/** The official counter's dense and sparse counts for one op (per sample). */
export function officialOpCount(op: FlopOp): { dense: OpCount; sparse: OpCount } {
  const c = zero();
  switch (op.kind) {
    case 'conv2d':
    case 'linear': {
      const w = weightCount(op);
      const p = positions(op);
      // conv: multiplies = numel(W)·P, adds = (numel(W) − 1)·P; linear: k·in·out and k·(in − 1)·out
      const mults = op.kind === 'conv2d' ? w * p : p * op.inFeatures * op.outFeatures;
      const adds = op.kind === 'conv2d' ? (w - 1) * p : p * (op.inFeatures - 1) * op.outFeatures;
      const biasAdds = op.bias ? p * outFeatures(op) : 0;
      const dense = { adds: adds + biasAdds, multiplies: mults, logical: 0, other: 0 };
      if (!op.masked) return { dense, sparse: dense };
      const sparse = {
        adds: Math.trunc(adds * op.density) + biasAdds,
        multiplies: Math.trunc(mults * op.density),
        logical: 0,
        other: 0,
      };
      return { dense, sparse };
    }
    case 'batchnorm': {
      const numel = op.channels * op.spatial;
      const affine = op.affine ? numel : 0;
      c.adds = 2 * op.channels * (op.spatial - 1) + numel + affine;
      c.multiplies = 2 * numel + affine;
      c.other = op.channels;
      break;
    }
    case 'layernorm': {
      const numel = op.rows * op.size;
      const affine = op.affine ? numel : 0;
      c.adds = 2 * op.rows * (op.size - 1) + numel + affine;
      c.multiplies = 2 * numel + affine;
      c.other = op.rows;
      break;
    }
    case 'relu':
      if (op.counted) c.logical = op.numel;
      break;
    case 'relu6':
      if (op.counted) c.logical = 2 * op.numel;
      break;
    case 'gelu':
      // nn.GELU's hook exists but is not registered in the official module table: counts 0 unless opted in.
      if (op.counted) {
        c.adds = 4 * op.numel;
        c.multiplies = 7 * op.numel;
      }
      break;
    case 'maxpool2d':
      c.logical = op.outNumel * (op.kernel * op.kernel - 1);
      break;
    case 'avgpool2d':
      if (op.counted) {
        c.adds = op.outNumel * (op.kernel * op.kernel - 1);
        c.multiplies = op.outNumel;
      }
      break;
    case 'global-avgpool':
      if (op.counted) {
        c.adds = op.outNumel * (Math.floor(op.inNumel / op.outNumel) - 1);
        c.multiplies = op.outNumel;
      }
      break;
    case 'softmax':
      if (op.counted) {
        const n = op.numel / op.axisSize;
        c.adds = n - 1;
        c.multiplies = n;
        c.other = n;
      }
      break;
    case 'matmul':
      if (op.counted) {
        c.multiplies = op.m * op.k * op.n;
        c.adds = op.m * (op.k - 1) * op.n;
      }
      break;
    case 'add':
      if (op.counted) c.adds = op.numel;
      break;
  }
  return { dense: c, sparse: c };
}

/** Paper convention: MACs of weighted ops (conv, linear, and attention matmuls), density-scaled. */
export function paperOpCount(op: FlopOp): { dense: number; sparse: number } {
  if (op.kind === 'conv2d' || op.kind === 'linear') {
    const macs = weightCount(op) * positions(op);
    return { dense: macs, sparse: op.masked ? macs * op.density : macs };
  }
  if (op.kind === 'matmul') {
    const macs = op.m * op.k * op.n;
    return { dense: macs, sparse: macs };
  }
  return { dense: 0, sparse: 0 };
}

export function opFlops(op: FlopOp, convention: FlopConvention): OpFlops {
  const masked = (op.kind === 'conv2d' || op.kind === 'linear') && op.masked;
  if (convention === 'paper') {
    const { dense, sparse } = paperOpCount(op);
    return { name: op.name, kind: op.kind, dense, sparse, masked };
  }
  const { dense, sparse } = officialOpCount(op);
  return { name: op.name, kind: op.kind, dense: total(dense), sparse: total(sparse), masked };
}

export interface FlopTotals {
  convention: FlopConvention;
  /** Dense forward FLOPs per sample of the instantiated model (all masks full). */
  dense: number;
  /** Forward FLOPs per sample at the realised densities. */
  sparse: number;
  /** FLOPs of ops whose weight is masked, counted dense (what the mask density scales). */
  maskableDense: number;
  perOp: OpFlops[];
}

/** Forward FLOPs per sample of a model described as ops. */
export function countFlops(ops: readonly FlopOp[], convention: FlopConvention = 'official'): FlopTotals {
  const perOp = ops.map((op) => opFlops(op, convention));
  let dense = 0;
  let sparse = 0;
  let maskableDense = 0;
  for (const o of perOp) {
    dense += o.dense;
    sparse += o.sparse;
    if (o.masked) maskableDense += o.dense;
  }
  return { convention, dense, sparse, maskableDense, perOp };
}

/** Returns the same ops with every masked weight at the given density (e.g. the target 1 − s). */
export function withDensity(ops: readonly FlopOp[], density: (op: FlopOp) => number): FlopOp[] {
  return ops.map((op) =>
    (op.kind === 'conv2d' || op.kind === 'linear') && op.masked ? { ...op, density: density(op) } : op,
  );
}

/**
 * Sparse Wide's mask sparsity s* for a widened model given as ops (any mask density): the part that
 * never scales with the masks (dense layers, norms, bias adds: the ops with every mask empty) plus
 * (1 − s*) × the masked weights counted dense meets `budget` official FLOPs, the dense baseline's
 * (docs/flops.md#sparse-wide-budget).
 */
export function sparseWideMaskSparsity(wideOps: readonly FlopOp[], budget: number): number {
  const fixed = countFlops(withDensity(wideOps, () => 0), 'official').sparse;
  return solveSparseWideSparsity({ denseFlops: fixed, maskableFlops: countFlops(wideOps, 'official').dense - fixed, budget });
}

// ---------------------------------------------------------------------------------------------
// Training FLOPs (docs/flops.md#training-flops; official relative_flops_utils.py).
// ---------------------------------------------------------------------------------------------

export interface TrainingFlopsArgs {
  method: SparseMethod;
  /** Forward FLOPs per sample at the realised density (f_S). */
  sparseForward: number;
  /** Forward FLOPs per sample of the same (widened) model, dense (f_D; docs/deviations.md#pitfall-dense-flops-widened). */
  denseForward: number;
  batchSize: number;
  steps: number;
  /** RigL update period ΔT (default 100). */
  updateFrequency?: number;
  /**
   * Fraction of training during which mask updates run. Our schedule stops at 0.75 (the official
   * optimiser); the official FLOP helper assumes 0.8. Default 0.75 so the count matches what we train.
   */
  updateEndFraction?: number;
}

/**
 * Training FLOPs per step per sample: 3× forward (forward + 2× for backward). RigL pays one dense
 * backward every ΔT steps while updates run: ((3ΔT + 2)·f_S + f_D)/(ΔT + 1). SET needs no dense
 * gradient, so it costs the same as static.
 */
export function trainingFlopsPerSample(args: Omit<TrainingFlopsArgs, 'batchSize' | 'steps'>, duringUpdates = true): number {
  const { method, sparseForward: fS, denseForward: fD } = args;
  if (method === 'dense') return 3 * fD;
  if (method !== 'rigl' || !duringUpdates) return 3 * fS;
  const dt = args.updateFrequency ?? 100;
  return ((3 * dt + 2) * fS + fD) / (dt + 1);
}

/** Total training FLOPs over a run (docs/flops.md#training-flops totals: per-sample cost × batch × steps). */
export function trainingFlops(args: TrainingFlopsArgs): number {
  const end = args.updateEndFraction ?? 0.75;
  const withUpdates = trainingFlopsPerSample(args, true);
  const without = trainingFlopsPerSample(args, false);
  return args.batchSize * (withUpdates * args.steps * end + without * args.steps * (1 - end));
}
