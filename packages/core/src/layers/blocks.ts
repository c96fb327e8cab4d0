/**
 * Functional builders: replace one dense linear/conv layer by a Sparse-IFT family. What each family
 * builds is read off core's one description of it (`familyBlock`, family-block.ts); this file only
 * turns its steps into registered layers (MaskedDense/MaskedConv2D, core's LayerNorm, BatchNorm and
 * Gelu, tfjs' Activation, Add, Dense, Conv2D), so `model.save` and `tf.loadLayersModel` handle a
 * block with no extra code. Every kernel carries its TensorRole.
 */
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { familyBlock, SUM_SUFFIX, type FamilyOptions, type KernelStep, type NormStep } from '../family-block.js';
import type { DenseLayerSpec } from '../isoflop.js';
import { tensorMaskSeed, tensorSeed } from '../rng.js';
import { seededInitializer, type InitializerSpec } from './initializers.js';
import { MaskedConv2D, type Pair } from './masked-conv2d.js';
import { MaskedDense } from './masked-dense.js';
import { LayerNorm } from './layer-norm.js';
import { BatchNorm } from './batch-norm.js';
import { Gelu } from './gelu.js';

export interface BatchNormOptions {
  /** tfjs momentum = 1 − PyTorch momentum. Default 0.9 (PyTorch's 0.1). */
  momentum?: number;
  /** Default 1e-5 (PyTorch). */
  epsilon?: number;
}

interface SparseIftCommonOptions extends FamilyOptions {
  /** Prefix of every layer name in the block; must be unique in the model. */
  name: string;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /**
   * Seed of the masks: the i-th kernel of the plan draws its mask from `tensorMaskSeed(maskSeed, i)`
   * (docs/seeding.md). Unseeded if absent.
   */
  maskSeed?: number;
  /**
   * Seed of the weights: the i-th kernel of the plan (each Sparse Parallel branch, U, V, ...) draws
   * from `tensorSeed(weightSeed, i, 0)`, its bias from `tensorSeed(weightSeed, i, 1)`, so every
   * tensor has its own stream (docs/seeding.md). Absent: the initializers are used as given.
   */
  weightSeed?: number;
}

export interface SparseIftDenseOptions extends SparseIftCommonOptions {
  /** Output features (for 'sparse-wide': the widened width the caller computed with sparseWideWidth). */
  units: number;
  /** Default true. SP: one bias per branch; SF, SD: one bias, on V / on the sparse path. */
  useBias?: boolean;
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
  batchNorm?: BatchNormOptions;
}

function toPair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function lastDim(input: SymbolicTensor, what: string): number {
  const d = input.shape[input.shape.length - 1];
  if (d == null) throw new Error(`${what}: the input's last axis must be known, got shape [${input.shape.join(', ')}]`);
  return d;
}

function checkName(options: SparseIftCommonOptions, what: string): void {
  if (typeof options.name !== 'string' || options.name.length === 0) throw new Error(`${what}: give the block a name`);
}

/** Kernel and bias initializers, mask role/sparsity/seed of one kernel step. */
function kernelArgs(options: SparseIftCommonOptions, step: KernelStep, defaultKernel: InitializerSpec) {
  return {
    useBias: step.bias,
    kernelInitializer: seededInitializer(options.kernelInitializer ?? defaultKernel, tensorSeed(options.weightSeed, step.index, 0)),
    biasInitializer: seededInitializer(options.biasInitializer ?? 'zeros', tensorSeed(options.weightSeed, step.index, 1)),
    role: step.tensor.role,
    masked: step.tensor.masked,
    sparsity: step.maskSparsity,
    maskSeed: tensorMaskSeed(options.maskSeed, step.index),
  };
}

/** What a builder supplies: how a kernel step becomes a layer, and its norm. */
interface StepLayers {
  kernel(step: KernelStep, name: string): { apply(x: SymbolicTensor): unknown };
  norm(step: NormStep, name: string): { apply(x: SymbolicTensor): unknown };
}

/** Applies the block's paths to `input` and sums them. */
function buildBlock(input: SymbolicTensor, layer: DenseLayerSpec, options: SparseIftCommonOptions & { bias: boolean }, make: StepLayers): SymbolicTensor {
  const block = familyBlock(layer, options);
  const outputs = block.paths.map((path) =>
    path.reduce((x, step) => {
      const name = `${options.name}${step.suffix}`;
      let l: { apply(x: SymbolicTensor): unknown };
      if (step.kind === 'kernel') l = make.kernel(step, name);
      else if (step.kind === 'batch-norm' || step.kind === 'layer-norm') l = make.norm(step, name);
      else l = step.kind === 'gelu' ? new Gelu({ name }) : layers.activation({ name, activation: 'relu' });
      return l.apply(x) as SymbolicTensor;
    }, input),
  );
  return outputs.length === 1 ? outputs[0]! : (layers.add({ name: `${options.name}${SUM_SUFFIX}` }).apply(outputs) as SymbolicTensor);
}

/**
 * One dense linear layer → its Sparse-IFT replacement, same input and output features (except
 * 'sparse-wide', whose width the caller passes as `units`). Returns the block's output. An unmasked
 * dense weight is tf.js' own Dense; every other kernel a MaskedDense.
 */
export function sparseIftDense(input: SymbolicTensor, options: SparseIftDenseOptions): SymbolicTensor {
  checkName(options, 'sparseIftDense');
  const what = `sparseIftDense '${options.name}'`;
  const layer: DenseLayerSpec = { kind: 'linear', inFeatures: lastDim(input, what), outFeatures: options.units };
  const epsilon = options.layerNormEpsilon ?? 1e-5;
  try {
    return buildBlock(input, layer, { ...options, bias: options.useBias ?? true }, {
      kernel: (step, name) => {
        const args = kernelArgs(options, step, 'glorotUniform');
        if (step.tensor.role === 'dense-weight') return layers.dense({ name, units: step.tensor.dout, useBias: args.useBias, kernelInitializer: args.kernelInitializer, biasInitializer: args.biasInitializer });
        return new MaskedDense({ name, units: step.tensor.dout, ...args });
      },
      norm: (_step, name) => new LayerNorm({ name, epsilon }),
    });
  } catch (e) {
    throw prefixed(e, what);
  }
}

/**
 * One dense k×k conv → its Sparse-IFT replacement, same Cin/Cout, stride and padding (except
 * 'sparse-wide', whose width the caller passes as `filters`). For Sparse Parallel with 'bn' the
 * output is the sum of the BN'd branches: apply the ReLU yourself, as the CIFAR block does after the
 * sum (and after the residual add for the second conv).
 */
export function sparseIftConv2D(input: SymbolicTensor, options: SparseIftConv2DOptions): SymbolicTensor {
  checkName(options, 'sparseIftConv2D');
  const what = `sparseIftConv2D '${options.name}'`;
  if (input.shape.length !== 4) throw new Error(`${what}: needs an NHWC input of rank 4, got shape [${input.shape.join(', ')}]`);
  const kernelSize = toPair(options.kernelSize);
  const strides = toPair(options.strides ?? 1);
  const padding = options.padding ?? 'same';
  const layer: DenseLayerSpec = { kind: 'conv', kernelSize, inChannels: lastDim(input, what), outChannels: options.filters, stride: strides[0] };
  try {
    return buildBlock(input, layer, { ...options, bias: options.useBias ?? false }, {
      // The first kernel of a path reads the block input with the layer's kernel, stride and
      // padding; V (the second stage of SF/SD) is a 1×1 conv at stride 1 on U's output.
      kernel: (step, name) => {
        const args = kernelArgs(options, step, 'kaimingNormal');
        const geometry = step.readsBlockInput ? { kernelSize, strides, padding } : { kernelSize: [1, 1] as Pair, strides: 1, padding: 'valid' as const };
        const filters = step.tensor.dout;
        if (step.tensor.role === 'dense-weight') return layers.conv2d({ name, filters, ...geometry, useBias: args.useBias, kernelInitializer: args.kernelInitializer, biasInitializer: args.biasInitializer });
        return new MaskedConv2D({ name, filters, ...geometry, ...args });
      },
      norm: (_step, name) => new BatchNorm({ name, momentum: options.batchNorm?.momentum ?? 0.9, epsilon: options.batchNorm?.epsilon ?? 1e-5 }),
    });
  } catch (e) {
    throw prefixed(e, what);
  }
}

/** The description's option errors, named after the block that got them. */
function prefixed(e: unknown, what: string): unknown {
  return e instanceof Error && !e.message.startsWith(what) ? Object.assign(e, { message: `${what}: ${e.message}` }) : e;
}
