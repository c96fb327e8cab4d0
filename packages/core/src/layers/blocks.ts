/**
 * Functional builders: replace one dense linear/conv layer by a Sparse-IFT family (spec §2).
 * Each block is a small graph of registered layers (MaskedDense/MaskedConv2D, core's LayerNorm and
 * BatchNorm and Gelu, plus tfjs' Activation, Add, Dense, Conv2D), so `model.save` and
 * `tf.loadLayersModel` handle it with no extra code. Every shape comes from `planLayer` in
 * isoflop.ts; every kernel carries its TensorRole.
 */
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { assertSparsity, isFamily, planLayer, type Family, type LayerPlan, type PlannedTensor } from '../isoflop.js';
import { deriveSeed, seededInitializer, type InitializerSpec } from './initializers.js';
import { MaskedConv2D, type Pair } from './masked-conv2d.js';
import { MaskedDense } from './masked-dense.js';
import { LayerNorm } from './layer-norm.js';
import { BatchNorm } from './batch-norm.js';
import { Gelu } from './gelu.js';

/** Per-branch σ of Sparse Parallel on a linear layer (spec §2.7: unspecified upstream; default 'identity'). */
export type LinearBranchSigma = 'identity' | 'relu' | 'gelu' | 'layernorm';
/**
 * Per-branch σ of Sparse Parallel on a conv (spec §2.2): 'bn' = CIFAR (BN per branch, sum; the
 * caller applies ReLU after), 'bn-relu' = ImageNet (BN + ReLU per branch, then sum), 'none'.
 */
export type ConvBranchNorm = 'bn' | 'bn-relu' | 'none';
/**
 * Sparse Factorized middle block between U and V (spec §2.3 `uv_layer`). Conv: 'nonlinear_norelu'
 * = BN, 'nonlinear_relu' = BN + ReLU (official CIFAR config, the conv default). Linear (project
 * choice, spec §2.7): 'nonlinear_norelu' = LayerNorm (the linear default), 'nonlinear_relu' =
 * LayerNorm + ReLU.
 */
export type FactorizedMiddle = 'linear' | 'nonlinear_norelu' | 'nonlinear_relu';

export interface BatchNormOptions {
  /** tfjs momentum = 1 − PyTorch momentum. Default 0.9 (PyTorch's 0.1). */
  momentum?: number;
  /** Default 1e-5 (PyTorch). */
  epsilon?: number;
}

interface SparseIftCommonOptions {
  family: Family;
  /** s of the family (for 'sparse-wide': the sparsity the caller trains at, e.g. after the budget search). */
  sparsity: number;
  /** Prefix of every layer name in the block; must be unique in the model. */
  name: string;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /** Seed of the masks: the i-th kernel of the plan gets maskSeed + i. Unseeded if absent. */
  maskSeed?: number;
  /**
   * Seed of the weights: the i-th kernel of the plan (each Sparse Parallel branch, U, V, ...) draws
   * from `deriveSeed(weightSeed, i, 0)`, its bias from `deriveSeed(weightSeed, i, 1)`, so every
   * tensor has its own stream. Absent: the initializers are used as given (unseeded unless they are).
   */
  weightSeed?: number;
  /** Sparse Factorized: only U sparse, d from the u-only formula (spec §2.3). */
  uOnly?: boolean;
  /** Sparse Doped: mask the low-rank U and V too, as the released code does (spec §2.4). Breaks iso-FLOP. */
  maskLowRank?: boolean;
}

export interface SparseIftDenseOptions extends SparseIftCommonOptions {
  /** Output features (for 'sparse-wide': the widened width the caller computed with sparseWideWidth). */
  units: number;
  /** Default true. SP: one bias per branch; SF, SD: one bias, on V / on the sparse path. */
  useBias?: boolean;
  /** Sparse Parallel per-branch σ. Default 'identity'. */
  sigma?: LinearBranchSigma;
  /** Sparse Factorized middle. Default 'nonlinear_norelu' (LayerNorm). */
  middle?: FactorizedMiddle;
  /** LayerNorm epsilon in SP/SF blocks. Default 1e-5. */
  layerNormEpsilon?: number;
}

export interface SparseIftConv2DOptions extends SparseIftCommonOptions {
  /** Output channels (for 'sparse-wide': the widened count). */
  filters: number;
  kernelSize: number | Pair;
  /** Default 1. For SF and SD the stride sits on U (and on the sparse path); V is 1×1, stride 1. */
  strides?: number | Pair;
  /** Default 'same'. */
  padding?: 'same' | 'valid';
  /** Default false (the official ResNets use bias-free convs followed by BN). */
  useBias?: boolean;
  /** Sparse Factorized middle. Default 'nonlinear_relu' (official CIFAR config). */
  middle?: FactorizedMiddle;
  /** Sparse Parallel per-branch σ. Default 'bn' (CIFAR). */
  parallelBranchNorm?: ConvBranchNorm;
  batchNorm?: BatchNormOptions;
}

/** Which options went into the block, for callers that want the plan (shapes, roles) too. */
export function planFor(
  kind: 'linear',
  din: number,
  options: Pick<SparseIftDenseOptions, 'units' | 'family' | 'sparsity' | 'uOnly' | 'maskLowRank'>,
): LayerPlan;
export function planFor(
  kind: 'conv',
  cin: number,
  options: Pick<SparseIftConv2DOptions, 'filters' | 'kernelSize' | 'strides' | 'family' | 'sparsity' | 'uOnly' | 'maskLowRank'>,
): LayerPlan;
export function planFor(
  kind: 'linear' | 'conv',
  inSize: number,
  options: {
    units?: number;
    filters?: number;
    kernelSize?: number | Pair;
    strides?: number | Pair;
    family: Family;
    sparsity: number;
    uOnly?: boolean;
    maskLowRank?: boolean;
  },
): LayerPlan {
  const planOptions = { factorizedUOnly: options.uOnly === true, dopedMaskLowRank: options.maskLowRank === true };
  if (kind === 'linear') {
    return planLayer({ kind, inFeatures: inSize, outFeatures: options.units! }, options.family, options.sparsity, planOptions);
  }
  const k = toPair(options.kernelSize!);
  const s = toPair(options.strides ?? 1);
  return planLayer(
    { kind, kernelSize: k, inChannels: inSize, outChannels: options.filters!, stride: s[0] },
    options.family,
    options.sparsity,
    planOptions,
  );
}

function toPair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function lastDim(input: SymbolicTensor, what: string): number {
  const d = input.shape[input.shape.length - 1];
  if (d == null) throw new Error(`${what}: the input's last axis must be known, got shape [${input.shape.join(', ')}]`);
  return d;
}

function checkCommon(options: SparseIftCommonOptions, what: string): void {
  if (!isFamily(options.family)) throw new Error(`${what} '${options.name}': unknown family '${String(options.family)}'`);
  assertSparsity(options.sparsity, `${what} '${options.name}' sparsity`);
  if (typeof options.name !== 'string' || options.name.length === 0) throw new Error(`${what}: give the block a name`);
}

function seedOf(options: SparseIftCommonOptions, index: number): number | undefined {
  return options.maskSeed === undefined ? undefined : options.maskSeed + index;
}

/** Kernel and bias initializers of the i-th planned tensor, seeded from `weightSeed` if given. */
function initOf(options: SparseIftCommonOptions, defaultKernel: InitializerSpec, index: number) {
  const seed = (which: number) => (options.weightSeed === undefined ? undefined : deriveSeed(options.weightSeed, index, which));
  return {
    kernelInitializer: seededInitializer(options.kernelInitializer ?? defaultKernel, seed(0)),
    biasInitializer: seededInitializer(options.biasInitializer ?? 'zeros', seed(1)),
  };
}

/** Mask settings of the i-th planned tensor: masked tensors get the family's s, others none. */
function maskOf(options: SparseIftCommonOptions, tensor: PlannedTensor, index: number) {
  return {
    role: tensor.role,
    masked: tensor.masked,
    sparsity: tensor.masked ? options.sparsity : 0,
    maskSeed: seedOf(options, index),
  };
}

function add(inputs: SymbolicTensor[], name: string): SymbolicTensor {
  return inputs.length === 1 ? inputs[0]! : (layers.add({ name }).apply(inputs) as SymbolicTensor);
}

function apply(layer: { apply(x: SymbolicTensor): unknown }, x: SymbolicTensor): SymbolicTensor {
  return layer.apply(x) as SymbolicTensor;
}

/**
 * One dense linear layer → its Sparse-IFT replacement, same input and output features (except
 * 'sparse-wide', whose width the caller passes as `units`). Returns the block's output.
 */
export function sparseIftDense(input: SymbolicTensor, options: SparseIftDenseOptions): SymbolicTensor {
  checkCommon(options, 'sparseIftDense');
  const din = lastDim(input, `sparseIftDense '${options.name}'`);
  const plan = planFor('linear', din, options);
  const name = options.name;
  const useBias = options.useBias ?? true;
  const init = (i: number) => initOf(options, 'glorotUniform', i);
  const eps = options.layerNormEpsilon ?? 1e-5;
  const masked = (i: number, units: number, layerName: string, bias: boolean) =>
    new MaskedDense({ name: layerName, units, useBias: bias, ...init(i), ...maskOf(options, plan.tensors[i]!, i) });

  switch (options.family) {
    case 'dense':
      return apply(
        layers.dense({ name, units: options.units, useBias, ...init(0) }),
        input,
      );
    case 'sparse-wide':
      // Per layer Sparse Wide is one masked layer of the width the caller passes (spec §2.1).
      return apply(
        new MaskedDense({ name, units: options.units, useBias, ...init(0), role: 'wide-weight', sparsity: options.sparsity, maskSeed: seedOf(options, 0) }),
        input,
      );
    case 'sparse-parallel': {
      const sigma = options.sigma ?? 'identity';
      const branches = plan.tensors.map((t, j) => {
        let h = apply(masked(j, t.dout, `${name}_sp${j}`, useBias), input);
        if (sigma === 'relu') h = apply(layers.activation({ name: `${name}_sp${j}_relu`, activation: 'relu' }), h);
        else if (sigma === 'gelu') h = apply(new Gelu({ name: `${name}_sp${j}_gelu` }), h);
        else if (sigma === 'layernorm') h = apply(new LayerNorm({ name: `${name}_sp${j}_ln`, epsilon: eps }), h);
        else if (sigma !== 'identity') throw new Error(`sparseIftDense '${name}': unknown sigma '${String(sigma)}'; use identity, relu, gelu or layernorm`);
        return h;
      });
      return add(branches, `${name}_sum`);
    }
    case 'sparse-factorized': {
      const [u, v] = plan.tensors as [PlannedTensor, PlannedTensor];
      let h = apply(masked(0, u.dout, `${name}_u`, false), input);
      const middle = options.middle ?? 'nonlinear_norelu';
      if (middle === 'nonlinear_norelu' || middle === 'nonlinear_relu') {
        h = apply(new LayerNorm({ name: `${name}_mid_ln`, epsilon: eps }), h);
        if (middle === 'nonlinear_relu') h = apply(layers.activation({ name: `${name}_mid_relu`, activation: 'relu' }), h);
      } else if (middle !== 'linear') {
        throw new Error(`sparseIftDense '${name}': unknown middle '${String(middle)}'; use linear, nonlinear_norelu or nonlinear_relu`);
      }
      return apply(masked(1, v.dout, `${name}_v`, useBias), h);
    }
    case 'sparse-doped': {
      const sparse = apply(masked(0, plan.tensors[0]!.dout, `${name}_sparse`, useBias), input);
      if (plan.tensors.length === 1) return sparse; // rank 0: only the sparse path
      const low = apply(masked(1, plan.tensors[1]!.dout, `${name}_u`, false), input);
      const lowOut = apply(masked(2, plan.tensors[2]!.dout, `${name}_v`, false), low);
      return add([sparse, lowOut], `${name}_sum`);
    }
  }
}

/**
 * One dense k×k conv → its Sparse-IFT replacement (spec §2.2–2.4), same Cin/Cout, stride and
 * padding (except 'sparse-wide', whose width the caller passes as `filters`). For Sparse Parallel
 * with 'bn' the output is the sum of the BN'd branches: apply the ReLU yourself, as the CIFAR
 * block does after the sum (and after the residual add for the second conv).
 */
export function sparseIftConv2D(input: SymbolicTensor, options: SparseIftConv2DOptions): SymbolicTensor {
  checkCommon(options, 'sparseIftConv2D');
  if (input.shape.length !== 4) {
    throw new Error(`sparseIftConv2D '${options.name}': needs an NHWC input of rank 4, got shape [${input.shape.join(', ')}]`);
  }
  const cin = lastDim(input, `sparseIftConv2D '${options.name}'`);
  const plan = planFor('conv', cin, options);
  const name = options.name;
  const kernelSize = toPair(options.kernelSize);
  const strides = toPair(options.strides ?? 1);
  const padding = options.padding ?? 'same';
  const useBias = options.useBias ?? false;
  const init = (i: number) => initOf(options, 'kaimingNormal', i);
  const bn = (layerName: string) =>
    new BatchNorm({
      name: layerName,
      momentum: options.batchNorm?.momentum ?? 0.9,
      epsilon: options.batchNorm?.epsilon ?? 1e-5,
    });
  const relu = (layerName: string) => layers.activation({ name: layerName, activation: 'relu' });
  // The i-th planned tensor as a conv: V (the second stage of SF/SD) is a 1×1 conv at stride 1 on
  // U's output; every other kernel reads the block input with the layer's kernel, stride, padding.
  const conv = (i: number, layerName: string, bias: boolean) => {
    const t = plan.tensors[i]!;
    const readsInput = t.role !== 'factorized-v' && t.role !== 'doped-v';
    return new MaskedConv2D({
      name: layerName,
      filters: t.dout,
      kernelSize: readsInput ? kernelSize : [1, 1],
      strides: readsInput ? strides : 1,
      padding: readsInput ? padding : 'valid',
      useBias: bias,
      ...init(i),
      ...maskOf(options, t, i),
    });
  };

  switch (options.family) {
    case 'dense':
      return apply(
        layers.conv2d({
          name,
          filters: options.filters,
          kernelSize,
          strides,
          padding,
          useBias,
          ...init(0),
        }),
        input,
      );
    case 'sparse-wide':
      return apply(
        new MaskedConv2D({
          name,
          filters: options.filters,
          kernelSize,
          strides,
          padding,
          useBias,
          ...init(0),
          role: 'wide-weight',
          sparsity: options.sparsity,
          maskSeed: seedOf(options, 0),
        }),
        input,
      );
    case 'sparse-parallel': {
      const norm = options.parallelBranchNorm ?? 'bn';
      if (norm !== 'bn' && norm !== 'bn-relu' && norm !== 'none') {
        throw new Error(`sparseIftConv2D '${name}': unknown parallelBranchNorm '${String(norm)}'; use bn, bn-relu or none`);
      }
      const branches = plan.tensors.map((_, j) => {
        let h = apply(conv(j, `${name}_sp${j}`, useBias), input);
        if (norm !== 'none') h = apply(bn(`${name}_sp${j}_bn`), h);
        if (norm === 'bn-relu') h = apply(relu(`${name}_sp${j}_relu`), h);
        return h;
      });
      return add(branches, `${name}_sum`);
    }
    case 'sparse-factorized': {
      let h = apply(conv(0, `${name}_u`, false), input);
      const middle = options.middle ?? 'nonlinear_relu';
      if (middle === 'nonlinear_norelu' || middle === 'nonlinear_relu') {
        h = apply(bn(`${name}_mid_bn`), h);
        if (middle === 'nonlinear_relu') h = apply(relu(`${name}_mid_relu`), h);
      } else if (middle !== 'linear') {
        throw new Error(`sparseIftConv2D '${name}': unknown middle '${String(middle)}'; use linear, nonlinear_norelu or nonlinear_relu`);
      }
      return apply(conv(1, `${name}_v`, useBias), h);
    }
    case 'sparse-doped': {
      const sparse = apply(conv(0, `${name}_sparse`, useBias), input);
      if (plan.tensors.length === 1) return sparse;
      const low = apply(conv(1, `${name}_u`, false), input);
      const lowOut = apply(conv(2, `${name}_v`, false), low);
      return add([sparse, lowOut], `${name}_sum`);
    }
  }
}
