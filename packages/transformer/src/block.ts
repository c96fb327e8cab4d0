/**
 * The pre-LayerNorm transformer block GPT and ViT share, and its FLOP op list:
 *
 *   x = x + Dropout(Proj(Attention(Q(LN1 x), K(LN1 x), V(LN1 x))))
 *   x = x + Dropout(FC2(GELU(FC1(LN2 x))))
 *
 * The six linears (q, k, v, attention output, fc1, fc2) are the ones Sparse-IFT transforms and masks
 * (docs/sparse-ift.md#which-layers); each is core's description of the family (`familyBlock`),
 * built by `sparseIftDense` and counted by `familyBlockOps`. LayerNorms, biases and embeddings stay dense.
 */
import { initializers, layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  Dropout,
  Gelu,
  LayerNorm,
  assertSparsity,
  partSeeds,
  familyBlock,
  familyBlockOps,
  FACTORIZED_MIDDLES,
  LINEAR_BRANCH_SIGMAS,
  isFamily,
  sparseIftDense,
  sparseWideTransformerWidth,
  type FactorizedMiddle,
  type Family,
  type FamilyOptions,
  type LinearBranchSigma,
  type ModelOptions,
  type PlanOp,
} from '@sparse-ift/core';
import { DotProductAttention, attentionOps } from './attention.js';

/** Widths the model is built at: Sparse Wide widens d_model (a multiple of the head count) and d_ff. */
export interface TransformerWidths {
  dModel: number;
  dFf: number;
  headDim: number;
}

export function transformerWidths(
  c: { dModel: number; heads: number; ffnMultiplier: number },
  family: Family,
  sparsity: number,
): TransformerWidths {
  const dModel = family === 'sparse-wide' ? sparseWideTransformerWidth(c.dModel, c.heads, sparsity) : c.dModel;
  if (dModel % c.heads !== 0) {
    throw new Error(`d_model ${dModel} is not a multiple of the ${c.heads} heads; pick a width divisible by the head count`);
  }
  return { dModel, dFf: c.ffnMultiplier * dModel, headDim: dModel / c.heads };
}

/** How SP, SF and SD are applied to a transformer linear (no official code: docs/sparse-ift.md#transformer-linears). */
export interface TransformerLinearOptions extends Pick<FamilyOptions, 'factorizedMiddle' | 'dopedMaskLowRank'> {
  /**
   * Sparse Parallel per-branch σ. Default 'identity': a q/k/v/output projection feeds attention
   * logits or the residual stream, which expect a linear map of either sign; a ReLU/GELU per branch
   * would clip it, and a per-branch LayerNorm would renormalise every projection. With identity the k
   * branches are k independently masked full-size linears whose sum is the layer.
   */
  parallelSigma?: LinearBranchSigma;
  /**
   * Sparse Factorized middle between U and V. Default 'nonlinear_norelu' = LayerNorm: the
   * transformer analogue of the official CIFAR code's BN, without the ReLU for the same reason as above.
   */
  factorizedMiddle?: FactorizedMiddle;
}

export interface TransformerBlockSpec extends TransformerLinearOptions {
  /** Built widths (Sparse Wide already applied). */
  dModel: number;
  dFf: number;
  heads: number;
  causal: boolean;
  dropout: number;
  attentionDropout: number;
  layerNormEpsilon: number;
  /** Truncated-normal std (±2σ) of q, k, v and fc1. */
  initStd: number;
  /** Truncated-normal std (±2σ) of the output layers: attention output projection and fc2. */
  outputInitStd: number;
  family: Family;
  sparsity: number;
  /**
   * Seeds of the block (docs/seeding.md#weights-and-masks): the j-th linear (q, k, v, out, fc1, fc2)
   * gets `partSeeds(seeds, j)`, which core splits per tensor.
   * Unseeded if absent.
   */
  weightSeed?: number;
  maskSeed?: number;
}

/** What every transformer zoo (GPT, ViT) is built with: the family, its s, the linears' options, the seed. */
export interface TransformerBuildOptions extends TransformerLinearOptions {
  family: Family;
  /** s of the family (0 for dense). Sparse Wide trains its widened linears at exactly s ([MZ]). */
  sparsity: number;
  seed?: number;
}

/** The config fields a block is built from (GptConfig and VitConfig both have them). */
export interface TransformerShape {
  dModel: number;
  heads: number;
  ffnMultiplier: number;
  dropout: number;
  attentionDropout: number;
  layerNormEpsilon: number;
  initStd: number;
}

/** Throws unless `family` is a Sparse-IFT family and `sparsity` a valid s for it (dense needs 0). */
export function checkFamilyAndSparsity(family: Family, sparsity: number): void {
  if (!isFamily(family)) throw new Error(`unknown family '${String(family)}'`);
  assertSparsity(sparsity);
  if (family === 'dense' && sparsity !== 0) throw new RangeError(`family 'dense' needs sparsity 0, got ${sparsity}`);
}

/**
 * The block spec of config `c` built as `o.family` at `o.sparsity` (Sparse Wide widths from core via
 * `transformerWidths`); `causal` and the output layers' init std are the model's choice.
 */
export function transformerBlockSpec(
  c: TransformerShape,
  o: TransformerBuildOptions,
  model: { causal: boolean; outputInitStd: number },
): TransformerBlockSpec {
  const w = transformerWidths(c, o.family, o.sparsity);
  return {
    dModel: w.dModel,
    dFf: w.dFf,
    heads: c.heads,
    causal: model.causal,
    dropout: c.dropout,
    attentionDropout: c.attentionDropout,
    layerNormEpsilon: c.layerNormEpsilon,
    initStd: c.initStd,
    outputInitStd: model.outputInitStd,
    family: o.family,
    sparsity: o.family === 'dense' ? 0 : o.sparsity,
    ...(o.parallelSigma === undefined ? {} : { parallelSigma: o.parallelSigma }),
    ...(o.factorizedMiddle === undefined ? {} : { factorizedMiddle: o.factorizedMiddle }),
    ...(o.dopedMaskLowRank === undefined ? {} : { dopedMaskLowRank: o.dopedMaskLowRank }),
  };
}


/** The tf.js model name: `<config>-<family>[-<s>]`. */
export function builtModelName(config: string, family: Family, sparsity: number): string {
  return `${config}-${family}${family === 'dense' ? '' : `-${sparsity}`}`;
}

/**
 * The options every transformer zoo reads from registry options: family, s, the linears' options
 * (checked by `parseLinearOptions`) and the seed.
 */
export function parseTransformerBuildOptions(opts: ModelOptions): TransformerBuildOptions {
  return {
    family: opts.family,
    sparsity: opts.sparsity,
    ...parseLinearOptions(opts),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  };
}

/** The six transformed linears of a block: name suffix, and whether it is an "output layer". */
export const BLOCK_LINEARS = [
  { key: 'attn_q', output: false },
  { key: 'attn_k', output: false },
  { key: 'attn_v', output: false },
  { key: 'attn_out', output: true },
  { key: 'mlp_fc1', output: false },
  { key: 'mlp_fc2', output: true },
] as const;

/** Truncated normal (redrawn outside ±2σ, as PyTorch's trunc_normal_(a=−2σ, b=2σ)); seeded if `seed` is given. */
export function truncatedNormal(stddev: number, seed?: number) {
  return initializers.truncatedNormal({ mean: 0, stddev, ...(seed === undefined ? {} : { seed }) });
}

function linear(
  input: SymbolicTensor,
  spec: TransformerBlockSpec,
  name: string,
  units: number,
  std: number,
  seedIndex: number,
): SymbolicTensor {
  return sparseIftDense(input, {
    name,
    units,
    ...linearFamily(spec),
    useBias: true,
    kernelInitializer: truncatedNormal(std),
    biasInitializer: 'zeros',
    layerNormEpsilon: spec.layerNormEpsilon,
    ...partSeeds(spec, seedIndex),
  });
}

/** One pre-norm block on x [B, T, d]; layer names start with `prefix` (e.g. 'h0'). */
export function transformerBlock(x: SymbolicTensor, spec: TransformerBlockSpec, prefix: string): SymbolicTensor {
  const { dModel, dFf } = spec;
  const ln1 = new LayerNorm({ name: `${prefix}_ln1`, epsilon: spec.layerNormEpsilon }).apply(x) as SymbolicTensor;
  const q = linear(ln1, spec, `${prefix}_attn_q`, dModel, spec.initStd, 0);
  const k = linear(ln1, spec, `${prefix}_attn_k`, dModel, spec.initStd, 1);
  const v = linear(ln1, spec, `${prefix}_attn_v`, dModel, spec.initStd, 2);
  const heads = new DotProductAttention({
    name: `${prefix}_attn`,
    heads: spec.heads,
    causal: spec.causal,
    dropout: spec.attentionDropout,
  }).apply([q, k, v]) as SymbolicTensor;
  let attnOut = linear(heads, spec, `${prefix}_attn_out`, dModel, spec.outputInitStd, 3);
  if (spec.dropout > 0) attnOut = new Dropout({ name: `${prefix}_attn_drop`, rate: spec.dropout }).apply(attnOut) as SymbolicTensor;
  const x1 = layers.add({ name: `${prefix}_attn_residual` }).apply([x, attnOut]) as SymbolicTensor;

  const ln2 = new LayerNorm({ name: `${prefix}_ln2`, epsilon: spec.layerNormEpsilon }).apply(x1) as SymbolicTensor;
  const fc1 = linear(ln2, spec, `${prefix}_mlp_fc1`, dFf, spec.initStd, 4);
  const act = new Gelu({ name: `${prefix}_mlp_gelu` }).apply(fc1) as SymbolicTensor; // core's fused GELU (exact, erf)
  let fc2 = linear(act, spec, `${prefix}_mlp_fc2`, dModel, spec.outputInitStd, 5);
  if (spec.dropout > 0) fc2 = new Dropout({ name: `${prefix}_mlp_drop`, rate: spec.dropout }).apply(fc2) as SymbolicTensor;
  return layers.add({ name: `${prefix}_mlp_residual` }).apply([x1, fc2]) as SymbolicTensor;
}

// ---------------------------------------------------------------------------------------------
// The same block as FLOP ops (per sample), without allocating weights.
// ---------------------------------------------------------------------------------------------

/** Ops of one block at sequence length `rows` (queries = keys = rows). */
export function transformerBlockOps(spec: TransformerBlockSpec, prefix: string, rows: number): PlanOp[] {
  const { dModel: d, dFf } = spec;
  const lin = (key: string, din: number, dout: number) =>
    familyBlockOps(familyBlock({ kind: 'linear', inFeatures: din, outFeatures: dout }, { ...linearFamily(spec), bias: true }), `${prefix}_${key}`, { rows });
  const ln = (key: string): PlanOp => ({ kind: 'layernorm', name: `${prefix}_${key}`, rows, size: d, affine: true, role: 'ln' });
  const residual = (key: string): PlanOp => ({ kind: 'add', name: `${prefix}_${key}`, numel: rows * d, counted: false, role: 'add' });
  return [
    ln('ln1'),
    ...lin('attn_q', d, d),
    ...lin('attn_k', d, d),
    ...lin('attn_v', d, d),
    ...attentionOps(`${prefix}_attn`, { queries: rows, keys: rows, width: d, heads: spec.heads }),
    ...lin('attn_out', d, d),
    residual('attn_residual'),
    ln('ln2'),
    ...lin('mlp_fc1', d, dFf),
    { kind: 'gelu', name: `${prefix}_mlp_gelu`, numel: rows * dFf, counted: false, role: 'activation' },
    ...lin('mlp_fc2', dFf, d),
    residual('mlp_residual'),
  ];
}

/** How every linear of a block applies the family: what `transformerBlock` builds and `transformerBlockOps` counts. */
function linearFamily(spec: TransformerBlockSpec): FamilyOptions {
  return {
    family: spec.family,
    sparsity: spec.sparsity,
    parallelSigma: spec.parallelSigma ?? 'identity',
    factorizedMiddle: spec.factorizedMiddle ?? 'nonlinear_norelu',
    dopedMaskLowRank: spec.dopedMaskLowRank === true,
  };
}

/** Reads the transformer-linear options out of registry/model options, checking their values against core's lists. */
export function parseLinearOptions(opts: Record<string, unknown>): TransformerLinearOptions {
  const out: TransformerLinearOptions = {};
  const sigma = opts['parallelSigma'];
  if (sigma !== undefined) out.parallelSigma = oneOf('parallelSigma', sigma, LINEAR_BRANCH_SIGMAS);
  const middle = opts['factorizedMiddle'];
  if (middle !== undefined) out.factorizedMiddle = oneOf('factorizedMiddle', middle, FACTORIZED_MIDDLES);
  const lowRank = opts['dopedMaskLowRank'];
  if (lowRank !== undefined) {
    if (typeof lowRank !== 'boolean') throw new Error(`dopedMaskLowRank must be true or false, got ${String(lowRank)}`);
    out.dopedMaskLowRank = lowRank;
  }
  return out;
}

function oneOf<T extends string>(key: string, value: unknown, valid: readonly T[]): T {
  if (!valid.includes(value as T)) throw new Error(`${key} must be one of ${valid.join(', ')}, got '${String(value)}'`);
  return value as T;
}

/** Registry option help shared by the transformer zoos. */
export const TRANSFORMER_OPTION_HELP: Record<string, string> = {
  parallelSigma: "Sparse Parallel per-branch σ: 'identity' (default), 'relu', 'gelu' or 'layernorm'",
  factorizedMiddle: "Sparse Factorized middle: 'nonlinear_norelu' = LayerNorm (default), 'linear', 'nonlinear_relu' or 'relu'",
  dopedMaskLowRank: 'Sparse Doped: also mask U and V (released-code behaviour; breaks iso-FLOP). Default false',
  seed: 'seed of the masks and of every weight initializer (same seed, same initial model)',
};
