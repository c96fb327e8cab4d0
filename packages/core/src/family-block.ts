/**
 * What one Sparse-IFT family turns a dense linear or conv layer into, described once: the branches,
 * U and V, the middle norm, the sum, which tensors are masked and their roles and shapes
 * (docs/sparse-ift.md#the-four-families). Shapes come from `planLayer` (isoflop.ts).
 *
 * Two things are made from a {@link FamilyBlock} and nothing else re-describes a family:
 * - the tf.js layers (`sparseIftDense` / `sparseIftConv2D` in layers/blocks.ts);
 * - the FLOP and parameter op list ({@link familyBlockOps}), which `sift plan` and the Sparse Wide
 *   budget solve read without allocating a weight.
 *
 * A block is a set of paths from the block input whose outputs are summed (one path: no sum). Each
 * path is a chain of steps: a kernel (one planned tensor), a norm, or an activation. Step names are
 * suffixes of the block's name, so a built layer and its op share one name.
 */
import {
  assertSparsity,
  isFamily,
  planLayer,
  type DenseLayerSpec,
  type Family,
  type LayerPlan,
  type PlannedTensor,
} from './isoflop.js';
import type { PlanOp } from './model-flops.js';

/**
 * Per-branch σ of Sparse Parallel on a linear layer. The official code has no linear version
 * (docs/sparse-ift.md#transformer-linears); default 'identity'.
 */
export type LinearBranchSigma = 'identity' | 'relu' | 'gelu' | 'layernorm';
/**
 * Per-branch σ of Sparse Parallel on a conv: 'bn' = the CIFAR block (BN per branch, ReLU after the
 * sum, applied by the caller), 'bn-relu' = the ImageNet block (BN + ReLU per branch, then the sum),
 * 'none' (docs/sparse-ift.md#sparse-parallel).
 */
export type ConvBranchNorm = 'bn' | 'bn-relu' | 'none';
/**
 * Sparse Factorized middle between U and V. The official `uv_layer` values: 'linear' = nothing,
 * 'nonlinear_norelu' = norm, 'nonlinear_relu' = norm + ReLU, where the norm is BatchNorm on a conv
 * and LayerNorm on a linear. 'relu' = a ReLU alone, which the paper's figure allows (σ may be a norm
 * or a ReLU) but no official config uses (docs/sparse-ift.md#sparse-factorized).
 */
export type FactorizedMiddle = 'linear' | 'nonlinear_norelu' | 'nonlinear_relu' | 'relu';

export const LINEAR_BRANCH_SIGMAS: readonly LinearBranchSigma[] = ['identity', 'relu', 'gelu', 'layernorm'];
export const CONV_BRANCH_NORMS: readonly ConvBranchNorm[] = ['bn', 'bn-relu', 'none'];
export const FACTORIZED_MIDDLES: readonly FactorizedMiddle[] = ['linear', 'nonlinear_norelu', 'nonlinear_relu', 'relu'];

/** How a family is applied; everything not given takes the official (conv) or project (linear) default. */
export interface FamilyOptions {
  family: Family;
  /** s of the family: sets every shape. For 'sparse-wide' the layer passed is already widened. */
  sparsity: number;
  /** Sparsity the masked tensors are drawn at, when it differs from s (Sparse Wide after the FLOP-budget solve). */
  maskSparsity?: number;
  /** Sparse Parallel per-branch σ. Default: 'identity' on a linear, 'bn' on a conv. */
  parallelSigma?: LinearBranchSigma | ConvBranchNorm;
  /** Sparse Factorized middle. Default: 'nonlinear_norelu' on a linear, 'nonlinear_relu' on a conv (the official config). */
  factorizedMiddle?: FactorizedMiddle;
  /** Sparse Factorized `sparse_u_only`: only U sparse, inner width from the u-only formula. */
  factorizedUOnly?: boolean;
  /** Sparse Doped: mask U and V too, as the released filter does. Breaks iso-FLOP. */
  dopedMaskLowRank?: boolean;
}

/** One kernel of the block: a planned tensor, the `index`-th of the plan (seeds are taken per index). */
export interface KernelStep {
  kind: 'kernel';
  suffix: string;
  tensor: PlannedTensor;
  index: number;
  /** Sparsity its mask is drawn at (0 when the tensor is dense). */
  maskSparsity: number;
  bias: boolean;
  /** The first kernel of a path reads the block input with the layer's kernel, stride and padding; a later one (V) is 1×1, stride 1. */
  readsBlockInput: boolean;
}
export interface NormStep {
  kind: 'batch-norm' | 'layer-norm';
  suffix: string;
  width: number;
}
export interface ActivationStep {
  kind: 'relu' | 'gelu';
  suffix: string;
  width: number;
  /** Whether the official FLOP counter sees it (an `nn.ReLU` module, as the SF middle ReLU is). */
  counted: boolean;
}
export type BlockStep = KernelStep | NormStep | ActivationStep;

export interface FamilyBlock {
  layer: DenseLayerSpec;
  family: Family;
  plan: LayerPlan;
  /** Paths from the block input; their outputs are summed into the layer named `<name>_sum`. */
  paths: BlockStep[][];
  /** Output width (features or channels). */
  outWidth: number;
}

/** Suffix of the add that sums a block's paths. */
export const SUM_SUFFIX = '_sum';

function layerDims(layer: DenseLayerSpec): { cin: number; cout: number; kernelSize: [number, number] } {
  return layer.kind === 'linear'
    ? { cin: layer.inFeatures, cout: layer.outFeatures, kernelSize: [1, 1] }
    : { cin: layer.inChannels, cout: layer.outChannels, kernelSize: layer.kernelSize };
}

function checkOptions(layer: DenseLayerSpec, o: FamilyOptions): void {
  if (!isFamily(o.family)) throw new Error(`unknown family '${String(o.family)}'`);
  assertSparsity(o.sparsity);
  if (o.maskSparsity !== undefined) assertSparsity(o.maskSparsity, 'maskSparsity');
  const sigmas: readonly string[] = layer.kind === 'linear' ? LINEAR_BRANCH_SIGMAS : CONV_BRANCH_NORMS;
  if (o.parallelSigma !== undefined && !sigmas.includes(o.parallelSigma)) {
    throw new Error(`Sparse Parallel σ '${String(o.parallelSigma)}' does not apply to a ${layer.kind}; use ${sigmas.join(', ')}`);
  }
  if (o.factorizedMiddle !== undefined && !FACTORIZED_MIDDLES.includes(o.factorizedMiddle)) {
    throw new Error(`unknown Sparse Factorized middle '${String(o.factorizedMiddle)}'; use ${FACTORIZED_MIDDLES.join(', ')}`);
  }
}

/**
 * The block `options.family` makes of `layer`, with a bias on the block output when `bias` (SP: one
 * per branch; SF: on V; SD: on the sparse path).
 */
export function familyBlock(layer: DenseLayerSpec, options: FamilyOptions & { bias: boolean }): FamilyBlock {
  checkOptions(layer, options);
  const { family, bias } = options;
  const { cout } = layerDims(layer);
  const norm = layer.kind === 'linear' ? 'layer-norm' : 'batch-norm';
  const normSuffix = layer.kind === 'linear' ? 'ln' : 'bn';
  const maskSparsity = options.maskSparsity ?? options.sparsity;
  // Sparse Wide's layer is already widened by the caller (a whole-network transform): one masked
  // tensor of that shape. Every other family is planned per layer.
  const plan: LayerPlan =
    family === 'sparse-wide'
      ? { family, sparsity: options.sparsity, tensors: [{ ...planLayer(layer, 'dense', 0).tensors[0]!, role: 'wide-weight', masked: true, density: 1 - options.sparsity }] }
      : planLayer(layer, family, family === 'dense' ? 0 : options.sparsity, {
          factorizedUOnly: options.factorizedUOnly === true,
          dopedMaskLowRank: options.dopedMaskLowRank === true,
        });
  const kernel = (index: number, suffix: string, withBias: boolean, readsBlockInput = true): KernelStep => {
    const tensor = plan.tensors[index]!;
    return { kind: 'kernel', suffix, tensor, index, maskSparsity: tensor.masked ? maskSparsity : 0, bias: withBias, readsBlockInput };
  };
  let paths: BlockStep[][];
  switch (family) {
    case 'dense':
    case 'sparse-wide':
      paths = [[kernel(0, '', bias)]];
      break;
    case 'sparse-parallel': {
      const sigma = options.parallelSigma ?? (layer.kind === 'linear' ? 'identity' : 'bn');
      paths = plan.tensors.map((t, j) => {
        const p = `_sp${j}`;
        const path: BlockStep[] = [kernel(j, p, bias)];
        if (sigma === 'layernorm' || sigma === 'bn' || sigma === 'bn-relu') path.push({ kind: norm, suffix: `${p}_${normSuffix}`, width: t.dout });
        if (sigma === 'relu' || sigma === 'bn-relu') path.push({ kind: 'relu', suffix: `${p}_relu`, width: t.dout, counted: false });
        if (sigma === 'gelu') path.push({ kind: 'gelu', suffix: `${p}_gelu`, width: t.dout, counted: false });
        return path;
      });
      break;
    }
    case 'sparse-factorized': {
      const middle = options.factorizedMiddle ?? (layer.kind === 'linear' ? 'nonlinear_norelu' : 'nonlinear_relu');
      const d = plan.innerWidth!;
      const path: BlockStep[] = [kernel(0, '_u', false)];
      if (middle === 'nonlinear_norelu' || middle === 'nonlinear_relu') path.push({ kind: norm, suffix: `_mid_${normSuffix}`, width: d });
      // An nn.ReLU module in the official LowRankConv3x3, so the official counter sees it.
      if (middle === 'nonlinear_relu' || middle === 'relu') path.push({ kind: 'relu', suffix: '_mid_relu', width: d, counted: true });
      path.push(kernel(1, '_v', bias, false));
      paths = [path];
      break;
    }
    case 'sparse-doped':
      paths = [[kernel(0, '_sparse', bias)]];
      // Rank 0 (tiny layers at small s): only the sparse path.
      if (plan.tensors.length === 3) paths.push([kernel(1, '_u', false), kernel(2, '_v', false, false)]);
      break;
  }
  return { layer, family, plan, paths, outWidth: cout };
}

/** Where the block's output lives, per sample: rows of a linear (tokens), or a conv's output map. */
export type BlockPositions = { rows: number } | { outHeight: number; outWidth: number };

/**
 * The block as FLOP ops per sample, named as the tf.js builders name its layers (`name` + suffix).
 * Every kernel op is `maskable` (the masked-layers-only view), also in the dense model where the same
 * layer is unmasked; its density is the expected 1 − mask sparsity.
 */
export function familyBlockOps(block: FamilyBlock, name: string, at: BlockPositions): PlanOp[] {
  const positions = 'rows' in at ? at.rows : at.outHeight * at.outWidth;
  const ops: PlanOp[] = [];
  for (const path of block.paths) {
    for (const step of path) {
      const opName = `${name}${step.suffix}`;
      switch (step.kind) {
        case 'kernel': {
          const t = step.tensor;
          const weighted = { name: opName, bias: step.bias, masked: t.masked, density: t.masked ? 1 - step.maskSparsity : 1, maskable: true, role: t.role };
          if ('rows' in at) {
            ops.push({ kind: 'linear', inFeatures: t.din, outFeatures: t.dout, rows: at.rows, ...weighted });
          } else {
            const [kh, kw] = t.kernelSize;
            ops.push({ kind: 'conv2d', kernelSize: [kh, kw], inChannels: t.din / (kh * kw), outChannels: t.dout, outHeight: at.outHeight, outWidth: at.outWidth, ...weighted });
          }
          break;
        }
        case 'batch-norm':
          ops.push({ kind: 'batchnorm', name: opName, channels: step.width, spatial: positions, affine: true, role: 'bn' });
          break;
        case 'layer-norm':
          ops.push({ kind: 'layernorm', name: opName, rows: positions, size: step.width, affine: true, role: 'ln' });
          break;
        case 'relu':
        case 'gelu':
          ops.push({ kind: step.kind, name: opName, numel: step.width * positions, counted: step.counted, role: 'activation' });
          break;
      }
    }
  }
  if (block.paths.length > 1) ops.push({ kind: 'add', name: `${name}${SUM_SUFFIX}`, numel: block.outWidth * positions, counted: false, role: 'add' });
  return ops;
}
