/**
 * Model FLOP audit: turns a model into the `FlopOp[]` list of flops.ts and a per-layer plan
 * (docs/flops.md#official-counter, docs/flops.md#plan-views), either from a built tf.js model (`modelFlopOps`, the walker) or from a zoo's
 * own op list (`planFromOps`, no weights allocated).
 *
 * How a zoo package uses it:
 * - Describe the forward pass as `PlanOp[]` (a FlopOp plus `role`/`maskable`) in the definition's
 *   `flopOps(opts)` (see registry.ts) so `sift plan` never allocates a 100 M-param model, and test
 *   `modelFlopOps(createModel(...small config...), {density: 'target'})` against it.
 * - In the tf.js model: use `MaskedConv2D`/`MaskedDense` for every layer a family transforms or
 *   masks (even in the dense model, where they are unmasked), plain `Conv2D`/`Dense` for stem and
 *   head. The walker calls the former `maskable`, which gives the masked-layers-only view.
 * - Activations, pooling and adds are counted only when the official counter would see an
 *   `nn.Module` there (docs/flops.md#official-counter, docs/deviations.md#pitfall-counter-blind-spots): name such a layer with {@link countedLayerName}
 *   (`…_module`). Everything else is the functional form (`F.relu`, `F.avg_pool2d`, residual add) and
 *   costs 0 FLOPs in the official convention.
 * - A custom layer whose cost is not one of the built-in rules (attention matmuls, ...) implements
 *   {@link HasFlopOps}. A custom layer with weights and no rule is an error, never silently 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable, SymbolicTensor, layers } from '@tensorflow/tfjs-layers';
import {
  countFlops,
  opFlops,
  weightCount,
  type FlopConvention,
  type FlopOp,
} from './flops.js';
import { hasMaskedParams } from './masked-param.js';

type Layer = layers.Layer;

/**
 * A FlopOp with what the plan table needs beyond FLOPs: the tensor's role ('stem', 'head',
 * 'shortcut', a `TensorRole` such as 'parallel-branch', 'bn', ...) and whether it belongs to a
 * layer the family transforms (`maskable`; in the dense baseline, the layers that would be masked).
 */
export type PlanOp = FlopOp & {
  role?: string;
  /** Part of a transformed/masked layer (default: the op's `masked` flag). */
  maskable?: boolean;
  /**
   * The op's weight is another entry's (a tied LM head reads the token embedding table): its FLOPs
   * count, its weight is not counted as params again (its bias still is). A layer's `flopOps` sets
   * this so the walker gets it right; `ModelOpList.tiedWeightOps` does the same by name.
   */
  tied?: boolean;
};

/** A weight without a FlopOp (embeddings, position embeddings, cls token): counted as params only. */
export interface ParamEntry {
  name: string;
  role?: string;
  shape: number[];
}

/** Everything `planFromOps` needs to describe one model. */
export interface ModelOpList {
  ops: PlanOp[];
  /** Weights that no op holds (embeddings, ...). */
  extraParams?: ParamEntry[];
  /** Names of linear/conv ops whose weight is shared with another entry (tied LM head): not counted twice. */
  tiedWeightOps?: string[];
}

// ---------------------------------------------------------------------------------------------
// Layers that count themselves.
// ---------------------------------------------------------------------------------------------

/** Shapes a layer sees, per sample (batch dimension removed). */
export interface FlopOpContext {
  inputShapes: number[][];
  outputShapes: number[][];
}

/** A custom layer whose cost the walker cannot infer (e.g. attention matmuls) lists its own ops. */
export interface HasFlopOps {
  flopOps(context: FlopOpContext): PlanOp[];
  /**
   * True when the conv/linear/norm ops returned hold all of this layer's weights (so the planner
   * does not list them again as extra params). Default false: the layer's weights are listed as
   * extra params and its ops should then be weightless (e.g. attention matmuls).
   */
  flopOpsCountParams?: boolean;
}

export function hasFlopOps(layer: unknown): layer is HasFlopOps {
  return typeof (layer as Partial<HasFlopOps>)?.flopOps === 'function';
}

/** Name suffix that marks a ReLU/pooling/add layer as an `nn.Module` the official counter counts. */
export const COUNTED_SUFFIX = '_module';

/** `countedLayerName('s0b0_mid_relu')` → 's0b0_mid_relu_module': counted like a PyTorch module. */
export function countedLayerName(name: string): string {
  return name.endsWith(COUNTED_SUFFIX) ? name : `${name}${COUNTED_SUFFIX}`;
}

/**
 * Whether a ReLU/pooling/add layer is counted: names ending in `_module`, plus the Sparse Factorized
 * middle ReLU that core's `sparseIftConv2D`/`sparseIftDense` name `…_mid_relu` (an `nn.ReLU` module in
 * the official `LowRankConv3x3`, so the official counter sees it, docs/sparse-ift.md#sparse-factorized).
 */
export function isCountedLayerName(name: string): boolean {
  return name.endsWith(COUNTED_SUFFIX) || name.endsWith('_mid_relu');
}

// ---------------------------------------------------------------------------------------------
// The walker.
// ---------------------------------------------------------------------------------------------

export interface ModelFlopOpsOptions {
  /**
   * Density of masked weights: 'realised' (fraction of ones in each mask, what the official counter
   * measures; default) or 'target' (1 − the layer's sparsity, for comparing with an op list).
   */
  density?: 'realised' | 'target';
  /** Overrides the `_module` name rule for ReLU/pooling/add layers. */
  counted?: (layer: Layer) => boolean;
  /**
   * Which conv/dense layers belong to the transformed set (the masked-layers-only view). Default:
   * Masked* layers (MaskedConv2D, MaskedDense), masked or not; plain Conv2D/Dense are not.
   */
  maskable?: (layer: Layer) => boolean;
}

/** Weights that are state, not parameters (PyTorch buffers): masks and BN running statistics. */
const NON_PARAM_WEIGHTS = new Set(['mask', 'moving_mean', 'moving_variance']);

function shortWeightName(name: string): string {
  const parts = name.split('/');
  return (parts[parts.length - 1] ?? name).replace(/_\d+$/, '');
}

/** Parameter count of a layer: every weight except masks and BN running statistics. */
export function layerParamCount(layer: Layer): number {
  return layer.weights
    .filter((w) => !NON_PARAM_WEIGHTS.has(shortWeightName(w.originalName)))
    .reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

function perSample(shape: (number | null)[]): number[] {
  return shape.slice(1).map((d, i) => {
    if (d === null) throw new Error(`a non-batch dimension (${i + 1}) is unknown; build the model with a fixed input shape to count FLOPs`);
    return d;
  });
}

function shapesOf(s: unknown): number[][] {
  // A Shape is (number|null)[]; a list of shapes is an array of arrays.
  const arr = s as (number | null)[] | (number | null)[][];
  if (arr.length > 0 && Array.isArray(arr[0])) return (arr as (number | null)[][]).map(perSample);
  return [perSample(arr as (number | null)[])];
}

function layerInputShapes(layer: Layer): number[][] {
  const input = layer.input as SymbolicTensor | SymbolicTensor[];
  return Array.isArray(input) ? input.map((t) => perSample(t.shape)) : [perSample(input.shape)];
}

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function kernelWeight(layer: Layer): LayerVariable | undefined {
  return layer.weights.find((w) => shortWeightName(w.originalName) === 'kernel');
}

function hasBias(layer: Layer): boolean {
  return layer.weights.some((w) => shortWeightName(w.originalName) === 'bias');
}

interface MaskInfo {
  masked: boolean;
  density: number;
  maskable: boolean;
  role?: string;
}

/** A Masked* layer (MaskedConv2D/MaskedDense): its own `masked` flag and mask variable. */
interface MaskedLayerView {
  masked: boolean;
  sparsity: number;
  role?: string;
  maskVariable(): tf.Variable;
}

function isMaskedLayer(layer: unknown): layer is MaskedLayerView {
  const l = layer as Partial<MaskedLayerView>;
  return typeof l?.maskVariable === 'function' && typeof l.masked === 'boolean' && typeof l.sparsity === 'number';
}

function maskInfo(layer: Layer, mode: 'realised' | 'target', maskable?: (l: Layer) => boolean): MaskInfo {
  let view: { masked: boolean; sparsity: number; role?: string; mask: tf.Variable } | undefined;
  if (isMaskedLayer(layer)) {
    view = { masked: layer.masked, sparsity: layer.sparsity, role: layer.role, mask: layer.maskVariable() };
  } else if (hasMaskedParams(layer)) {
    const p = layer.maskedParams()[0];
    if (p !== undefined) view = { masked: true, sparsity: p.sparsity, role: p.role, mask: p.mask };
    else view = undefined;
  }
  const isMaskable = maskable ? maskable(layer) : view !== undefined || hasMaskedParams(layer);
  if (view === undefined || !view.masked) return { masked: false, density: 1, maskable: isMaskable, ...(view?.role !== undefined ? { role: view.role } : {}) };
  const role = view.role;
  if (mode === 'target') return { masked: true, density: 1 - view.sparsity, maskable: isMaskable, ...(role !== undefined ? { role } : {}) };
  const ones = tf.sum(view.mask);
  const density = ones.dataSync()[0]! / view.mask.size;
  ones.dispose();
  return { masked: true, density, maskable: isMaskable, ...(role !== undefined ? { role } : {}) };
}

function activationName(layer: Layer): string | undefined {
  const cls = layer.getClassName();
  if (cls === 'ReLU') return 'relu';
  if (cls === 'Activation') {
    const act = (layer.getConfig() as { activation?: unknown }).activation;
    return typeof act === 'string' ? act : undefined;
  }
  return undefined;
}

/** Layers with no cost in any convention. */
const FREE_LAYERS = new Set([
  'InputLayer',
  'Flatten',
  'Reshape',
  'Permute',
  'Dropout',
  'SparseIftDropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'ZeroPadding2D',
  'Cropping2D',
  'Concatenate',
  'Embedding', // a lookup: params, no FLOPs
]);

/**
 * Walks a built tf.js model (layers in topological order) into FlopOps (per sample). Shapes come from
 * each layer's input and output shapes, so the model must have a fixed input shape.
 */
export function modelFlopOps(model: LayersModel, options: ModelFlopOpsOptions = {}): PlanOp[] {
  const mode = options.density ?? 'realised';
  const counted = options.counted ?? ((l: Layer) => isCountedLayerName(l.name));
  const ops: PlanOp[] = [];
  for (const layer of model.layers) {
    ops.push(...layerFlopOps(layer, mode, counted, options.maskable));
  }
  return ops;
}

function layerFlopOps(layer: Layer, mode: 'realised' | 'target', counted: (l: Layer) => boolean, maskable?: (l: Layer) => boolean): PlanOp[] {
  const cls = layer.getClassName();
  const name = layer.name;
  if (hasFlopOps(layer)) {
    return layer.flopOps({ inputShapes: layerInputShapes(layer), outputShapes: shapesOf(layer.outputShape) });
  }
  if (FREE_LAYERS.has(cls)) return [];
  const out = shapesOf(layer.outputShape)[0]!;
  const ops: PlanOp[] = [];
  switch (cls) {
    case 'Conv2D':
    case 'MaskedConv2D': {
      const kernel = kernelWeight(layer);
      if (kernel === undefined || kernel.shape.length !== 4) throw new Error(`${cls} '${name}' has no 4-D kernel; build the model before counting`);
      const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
      const m = maskInfo(layer, mode, maskable);
      ops.push({
        kind: 'conv2d',
        name,
        kernelSize: [kh, kw],
        inChannels: cin,
        outChannels: cout,
        outHeight: out[0]!,
        outWidth: out[1]!,
        bias: hasBias(layer),
        masked: m.masked,
        density: m.density,
        maskable: m.maskable,
        ...(m.role !== undefined ? { role: m.role } : {}),
      });
      break;
    }
    case 'Dense':
    case 'MaskedDense': {
      const kernel = kernelWeight(layer);
      if (kernel === undefined || kernel.shape.length !== 2) throw new Error(`${cls} '${name}' has no 2-D kernel; build the model before counting`);
      const [inF, outF] = kernel.shape as [number, number];
      const m = maskInfo(layer, mode, maskable);
      ops.push({
        kind: 'linear',
        name,
        inFeatures: inF,
        outFeatures: outF,
        rows: numel(out.slice(0, -1)),
        bias: hasBias(layer),
        masked: m.masked,
        density: m.density,
        maskable: m.maskable,
        ...(m.role !== undefined ? { role: m.role } : {}),
      });
      break;
    }
    case 'BatchNormalization': {
      const cfg = layer.getConfig() as { center?: boolean; scale?: boolean };
      const channels = out[out.length - 1]!;
      ops.push({ kind: 'batchnorm', name, channels, spatial: numel(out) / channels, affine: cfg.scale !== false || cfg.center !== false, role: 'bn' });
      break;
    }
    case 'LayerNormalization': {
      const cfg = layer.getConfig() as { center?: boolean; scale?: boolean };
      const size = out[out.length - 1]!;
      ops.push({ kind: 'layernorm', name, rows: numel(out) / size, size, affine: cfg.scale !== false || cfg.center !== false, role: 'ln' });
      break;
    }
    case 'MaxPooling2D': {
      const pool = (layer.getConfig() as { poolSize?: number | number[] }).poolSize ?? 2;
      const k = Array.isArray(pool) ? pool[0]! : pool;
      ops.push({ kind: 'maxpool2d', name, kernel: k, outNumel: numel(out), role: 'pool' });
      break;
    }
    case 'AveragePooling2D': {
      const pool = (layer.getConfig() as { poolSize?: number | number[] }).poolSize ?? 2;
      const k = Array.isArray(pool) ? pool[0]! : pool;
      ops.push({ kind: 'avgpool2d', name, kernel: k, outNumel: numel(out), counted: counted(layer), role: 'pool' });
      break;
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalAveragePooling1D': {
      const inShape = layerInputShapes(layer)[0]!;
      ops.push({ kind: 'global-avgpool', name, inNumel: numel(inShape), outNumel: numel(out), counted: counted(layer), role: 'pool' });
      break;
    }
    case 'Add': {
      ops.push({ kind: 'add', name, numel: numel(out), counted: counted(layer), role: 'add' });
      break;
    }
    case 'Softmax': {
      ops.push({ kind: 'softmax', name, numel: numel(out), axisSize: out[out.length - 1]!, counted: counted(layer), role: 'softmax' });
      break;
    }
    default: {
      const act = activationName(layer);
      if (act === 'relu' || act === 'relu6' || act === 'gelu') {
        ops.push({ kind: act, name, numel: numel(out), counted: counted(layer), role: 'activation' });
      } else if (act === 'softmax') {
        ops.push({ kind: 'softmax', name, numel: numel(out), axisSize: out[out.length - 1]!, counted: counted(layer), role: 'softmax' });
      } else if (act === 'linear') {
        // identity
      } else if (layer.weights.length > 0) {
        throw new Error(
          `layer '${name}' (${cls}) has weights but no FLOP rule; implement HasFlopOps (flopOps(context)) on it so its cost is counted`,
        );
      } else {
        throw new Error(
          `layer '${name}' (${cls}) has no FLOP rule; implement HasFlopOps on it (return [] if it is free) or use a built-in layer`,
        );
      }
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// The plan: per-layer rows and totals in both views and both conventions (docs/flops.md#plan-views).
// ---------------------------------------------------------------------------------------------

export interface PlanRow {
  name: string;
  kind: FlopOp['kind'] | 'params';
  role: string;
  /** Weight shape ([kh, kw, Cin, Cout], [in, out], [C]); [] for weightless ops. */
  shape: number[];
  params: number;
  masked: boolean;
  maskable: boolean;
  /** Realised (walker) or expected (op list) density of the weight; 1 when dense. */
  density: number;
  /** FLOPs in the chosen convention: dense (all masks full) and at the density. */
  denseFlops: number;
  sparseFlops: number;
}

export interface ViewTotals {
  /** FLOPs of the dense baseline model (the budget the family must match). */
  denseFlops: number;
  /** FLOPs of this model at its mask densities. */
  sparseFlops: number;
  /** sparseFlops / denseFlops. */
  flopRatio: number;
}

export interface ConventionTotals {
  convention: FlopConvention;
  /** Whole network (every counted op). */
  wholeNetwork: ViewTotals & {
    /** This model with every mask full (f_D of docs/deviations.md#pitfall-dense-flops-widened; > denseFlops for widened models). */
    instantiatedDenseFlops: number;
  };
  /** Masked-layers-only: this model's transformed layers vs the baseline's corresponding layers. */
  maskedLayers: ViewTotals;
}

export interface PlanTotals extends ViewTotals {
  /** Every weight, masked or not (`sum(p.numel())`); masks and BN statistics are not params. */
  params: number;
  /** Weights that carry a mask. */
  maskedParams: number;
  /** Expected number of non-zero weights (masked weights × density + the rest). */
  nonZeroParams: number;
  convention: FlopConvention;
}

export interface ModelPlan {
  rows: PlanRow[];
  /** Totals in `convention`, whole-network view (the `sift plan --json` totals). */
  totals: PlanTotals;
  /** Both views in both conventions. */
  byConvention: Record<FlopConvention, ConventionTotals>;
  /** Whether `denseFlops` is the dense baseline model's ('baseline') or this model's dense cost. */
  reference: 'baseline' | 'instantiated';
}

export interface ModelPlanOptions {
  /** Convention of `rows` and `totals` (default 'official'). */
  convention?: FlopConvention;
}

function opShape(op: FlopOp): number[] {
  switch (op.kind) {
    case 'conv2d':
      return [op.kernelSize[0], op.kernelSize[1], op.inChannels, op.outChannels];
    case 'linear':
      return [op.inFeatures, op.outFeatures];
    case 'batchnorm':
      return [op.channels];
    case 'layernorm':
      return [op.size];
    default:
      return [];
  }
}

/** Whether the op's weight is shared with another entry: by the op's own flag or by name. */
const isTied = (op: PlanOp, tied: Set<string>): boolean => op.tied === true || tied.has(op.name);

function opParams(op: PlanOp, tied: Set<string>): number {
  switch (op.kind) {
    case 'conv2d':
    case 'linear':
      return (isTied(op, tied) ? 0 : weightCount(op)) + (op.bias ? (op.kind === 'conv2d' ? op.outChannels : op.outFeatures) : 0);
    case 'batchnorm':
      return op.affine ? 2 * op.channels : 0;
    case 'layernorm':
      return op.affine ? 2 * op.size : 0;
    default:
      return 0;
  }
}

const isWeighted = (op: FlopOp): op is Extract<FlopOp, { kind: 'conv2d' | 'linear' }> => op.kind === 'conv2d' || op.kind === 'linear';
const isMaskable = (op: PlanOp): boolean => op.maskable ?? (isWeighted(op) && op.masked);

function normalise(list: ModelOpList | PlanOp[]): ModelOpList {
  return Array.isArray(list) ? { ops: list } : list;
}

function conventionTotals(model: ModelOpList, baseline: ModelOpList | undefined, convention: FlopConvention): ConventionTotals {
  const mine = countFlops(model.ops, convention);
  const base = baseline ? countFlops(baseline.ops, convention) : mine;
  const maskedSparse = model.ops.reduce((s, op, i) => (isMaskable(op) ? s + mine.perOp[i]!.sparse : s), 0);
  const baseMaskedDense = (baseline ?? model).ops.reduce((s, op, i) => (isMaskable(op) ? s + base.perOp[i]!.dense : s), 0);
  const wholeDense = baseline ? base.dense : mine.dense;
  return {
    convention,
    wholeNetwork: { denseFlops: wholeDense, sparseFlops: mine.sparse, flopRatio: mine.sparse / wholeDense, instantiatedDenseFlops: mine.dense },
    maskedLayers: {
      denseFlops: baseMaskedDense,
      sparseFlops: maskedSparse,
      flopRatio: baseMaskedDense > 0 ? maskedSparse / baseMaskedDense : Number.NaN,
    },
  };
}

/**
 * The plan of a model given as an op list, against an optional dense baseline (without it, ratios are
 * to this model's own dense cost). No tensors are allocated.
 */
export function planFromOps(model: ModelOpList | PlanOp[], baseline?: ModelOpList | PlanOp[], options: ModelPlanOptions = {}): ModelPlan {
  const convention = options.convention ?? 'official';
  const m = normalise(model);
  const b = baseline === undefined ? undefined : normalise(baseline);
  const tied = new Set(m.tiedWeightOps ?? []);
  const rows: PlanRow[] = m.ops.map((op) => {
    const f = opFlops(op, convention);
    const weighted = isWeighted(op);
    return {
      name: op.name,
      kind: op.kind,
      role: op.role ?? (weighted ? (op.masked ? 'masked-weight' : 'dense-weight') : op.kind),
      shape: opShape(op),
      params: opParams(op, tied),
      masked: weighted && op.masked,
      maskable: isMaskable(op),
      density: weighted ? op.density : 1,
      denseFlops: f.dense,
      sparseFlops: f.sparse,
    };
  });
  for (const p of m.extraParams ?? []) {
    rows.push({ name: p.name, kind: 'params', role: p.role ?? 'params', shape: p.shape, params: numel(p.shape), masked: false, maskable: false, density: 1, denseFlops: 0, sparseFlops: 0 });
  }
  let params = 0;
  let maskedParams = 0;
  let nonZeroParams = 0;
  m.ops.forEach((op, i) => {
    const count = rows[i]!.params;
    params += count;
    if (isWeighted(op) && op.masked) {
      const w = isTied(op, tied) ? 0 : weightCount(op);
      maskedParams += w;
      nonZeroParams += count - w + w * op.density;
    } else {
      nonZeroParams += count;
    }
  });
  for (const p of m.extraParams ?? []) {
    params += numel(p.shape);
    nonZeroParams += numel(p.shape);
  }
  const byConvention = {
    official: conventionTotals(m, b, 'official'),
    paper: conventionTotals(m, b, 'paper'),
  };
  const whole = byConvention[convention].wholeNetwork;
  return {
    rows,
    totals: {
      params,
      maskedParams,
      nonZeroParams,
      denseFlops: whole.denseFlops,
      sparseFlops: whole.sparseFlops,
      flopRatio: whole.flopRatio,
      convention,
    },
    byConvention,
    reference: b ? 'baseline' : 'instantiated',
  };
}

/** Weights of a built model that no FlopOp holds (embeddings, cls tokens), as ParamEntries. */
export function modelExtraParams(model: LayersModel): ParamEntry[] {
  const entries: ParamEntry[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (['Conv2D', 'MaskedConv2D', 'Dense', 'MaskedDense', 'BatchNormalization', 'LayerNormalization'].includes(cls)) continue;
    if (hasFlopOps(layer) && layer.flopOpsCountParams === true) continue;
    for (const w of layer.weights) {
      if (NON_PARAM_WEIGHTS.has(shortWeightName(w.originalName))) continue;
      entries.push({ name: w.name, role: 'params', shape: w.shape.map((d) => d ?? 1) });
    }
  }
  return entries;
}

/** Total parameters of a built model, `sum(p.numel())` style: masks and BN statistics excluded. */
export function modelParamCount(model: LayersModel): number {
  return model.layers.reduce((sum, l) => sum + layerParamCount(l), 0);
}

/**
 * The plan of a built tf.js model (the walker), against an optional dense baseline (a built model or
 * an op list). Masks are read to get realised densities unless `density: 'target'`.
 */
export function planModel(
  model: LayersModel,
  options: ModelPlanOptions & ModelFlopOpsOptions & { baseline?: LayersModel | ModelOpList | PlanOp[] } = {},
): ModelPlan {
  const list: ModelOpList = { ops: modelFlopOps(model, options), extraParams: modelExtraParams(model) };
  let baseline: ModelOpList | PlanOp[] | undefined;
  if (options.baseline === undefined) baseline = undefined;
  else if (Array.isArray(options.baseline) || 'ops' in options.baseline) baseline = options.baseline as ModelOpList | PlanOp[];
  else baseline = { ops: modelFlopOps(options.baseline, { density: 'target' }) };
  return planFromOps(list, baseline, options);
}
