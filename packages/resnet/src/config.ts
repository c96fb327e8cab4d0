/**
 * ResNet architectures (docs/recipes.md#cifar-100-resnet-18, docs/recipes.md#imagenet-resnet) and the options every family takes. Nothing here allocates
 * tensors: `resolveResNet` turns an architecture and options into the concrete widths, branch norm
 * and mask sparsity (Sparse Wide's FLOP-budget solve of docs/flops.md#sparse-wide-budget), which both the tf.js builder
 * (model.ts) and the op list (ops.ts) use.
 */
import {
  countFlops,
  sparseWideMaskSparsity,
  sparseWideWidth,
  type ConvBranchNorm,
  type FactorizedMiddle,
  type Family,
  type FamilyOptions,
} from '@sparse-ift/core';
import { resnetOps } from './ops.js';

export type ResNetStem = 'cifar' | 'imagenet';

export interface ResNetArch {
  /** Registry name, e.g. 'resnet18-cifar'. */
  name: string;
  /** 'cifar': 3×3/1 conv, no max-pool, avg-pool 4 (functional). 'imagenet': 7×7/2 conv + max-pool 3×3/2, adaptive avg-pool. */
  stem: ResNetStem;
  /** BasicBlocks per stage: ResNet-18 [2,2,2,2], ResNet-34 [3,4,6,3]. */
  blocksPerStage: readonly number[];
  /** Width of the first stage before Sparse Wide (64 in the paper). Stage widths are (W, 2W, 4W, 8W). */
  baseWidth: number;
  /** Per-sample input [H, W, C]. */
  inputShape: readonly [number, number, number];
  numClasses: number;
}

export const RESNET18_CIFAR: ResNetArch = { name: 'resnet18-cifar', stem: 'cifar', blocksPerStage: [2, 2, 2, 2], baseWidth: 64, inputShape: [32, 32, 3], numClasses: 100 };
export const RESNET34_CIFAR: ResNetArch = { name: 'resnet34-cifar', stem: 'cifar', blocksPerStage: [3, 4, 6, 3], baseWidth: 64, inputShape: [32, 32, 3], numClasses: 100 };
export const RESNET18_IMAGENET: ResNetArch = { name: 'resnet18-imagenet', stem: 'imagenet', blocksPerStage: [2, 2, 2, 2], baseWidth: 64, inputShape: [224, 224, 3], numClasses: 1000 };
export const RESNET34_IMAGENET: ResNetArch = { name: 'resnet34-imagenet', stem: 'imagenet', blocksPerStage: [3, 4, 6, 3], baseWidth: 64, inputShape: [224, 224, 3], numClasses: 1000 };
/** A CPU-sized config for quick runs and tests: width 16, one block per stage, CIFAR stem (32×32 or 28×28 inputs). */
export const RESNET_MINI_CIFAR: ResNetArch = { name: 'resnet-mini-cifar', stem: 'cifar', blocksPerStage: [1, 1, 1, 1], baseWidth: 16, inputShape: [32, 32, 3], numClasses: 10 };

export const RESNET_ARCHS: readonly ResNetArch[] = [RESNET18_CIFAR, RESNET34_CIFAR, RESNET18_IMAGENET, RESNET34_IMAGENET, RESNET_MINI_CIFAR];

export interface ResNetOptions {
  family: Family;
  /** Nominal sparsity s of the family (0 for dense). */
  sparsity: number;
  /** Seeds weight init and masks; without it every build differs. */
  seed?: number;
  /**
   * Sparse Wide: train the masks at the sparsity s* that brings the widened model's official FLOPs to
   * the dense model's (docs/flops.md#sparse-wide-budget; deterministic solve at expected density). Default true. With false,
   * masks use the nominal s (1.15× dense FLOPs for ImageNet R18 at s = 0.9, docs/reference-values.md#imagenet).
   */
  flopBudgetSearch?: boolean;
  /** Sparse Factorized middle block `uv_layer` (docs/sparse-ift.md#sparse-factorized). Default 'nonlinear_relu' (the official config). */
  factorizedMiddle?: FactorizedMiddle;
  /** Sparse Factorized `sparse_u_only`: only U sparse, inner width from the u-only formula. Default false. */
  factorizedUOnly?: boolean;
  /** Sparse Doped: mask the low-rank U and V too, as the released filter does (docs/sparse-ift.md#sparse-doped). Breaks iso-FLOP. Default false. */
  dopedMaskLowRank?: boolean;
  /** Sparse Parallel per-branch σ: 'bn' (CIFAR block) or 'bn-relu' (ImageNet block). Default: by stem. */
  parallelSigma?: Extract<ConvBranchNorm, 'bn' | 'bn-relu'>;
  /** Zero-init the last BN γ of each plain block (dense and Sparse Wide only, docs/recipes.md#cifar-100-resnet-18). Default true. */
  zeroInitResidual?: boolean;
  /** Override the architecture's class count (e.g. 10 for CIFAR-10). */
  numClasses?: number;
  /** Override the per-sample input shape (e.g. [28, 28, 1] for Fashion-MNIST). */
  inputShape?: readonly [number, number, number];
}

export interface StageSpec {
  width: number;
  blocks: number;
}

/** Everything the builders need, decided once. */
export interface ResolvedResNet {
  arch: ResNetArch;
  family: Family;
  /** Nominal s. */
  sparsity: number;
  /** Sparsity of every masked tensor: s, or the budget-solved s* for Sparse Wide. */
  maskSparsity: number;
  /** First-stage width W (sparseWideWidth(base, s) for Sparse Wide). */
  width: number;
  stages: StageSpec[];
  parallelSigma: 'bn' | 'bn-relu';
  factorizedMiddle: FactorizedMiddle;
  factorizedUOnly: boolean;
  dopedMaskLowRank: boolean;
  zeroInitResidual: boolean;
  seed: number | undefined;
}

/** Stride-2 ops with PyTorch padding (3×3 pad 1, 7×7 pad 3, 1×1 pad 0, max-pool 3 pad 1) all map H → ⌊(H−1)/2⌋+1. */
export function halve(h: number): number {
  return Math.floor((h - 1) / 2) + 1;
}

function resolveWithoutSearch(arch: ResNetArch, opts: ResNetOptions): ResolvedResNet {
  const a: ResNetArch = {
    ...arch,
    numClasses: opts.numClasses ?? arch.numClasses,
    inputShape: opts.inputShape ?? arch.inputShape,
  };
  const width = opts.family === 'sparse-wide' ? sparseWideWidth(arch.baseWidth, opts.sparsity) : arch.baseWidth;
  const branchNorm = opts.parallelSigma ?? (arch.stem === 'cifar' ? 'bn' : 'bn-relu');
  if (branchNorm !== 'bn' && branchNorm !== 'bn-relu') {
    throw new Error(`parallelSigma must be 'bn' (CIFAR block) or 'bn-relu' (ImageNet block), got '${String(branchNorm)}'`);
  }
  return {
    arch: a,
    family: opts.family,
    sparsity: opts.sparsity,
    maskSparsity: opts.family === 'dense' ? 0 : opts.sparsity,
    width,
    stages: a.blocksPerStage.map((blocks, i) => ({ width: width * 2 ** i, blocks })),
    parallelSigma: branchNorm,
    factorizedMiddle: opts.factorizedMiddle ?? 'nonlinear_relu',
    factorizedUOnly: opts.factorizedUOnly ?? false,
    dopedMaskLowRank: opts.dopedMaskLowRank ?? false,
    zeroInitResidual: opts.zeroInitResidual ?? true,
    seed: opts.seed,
  };
}

/** The dense model's forward FLOPs per sample in the official convention: Sparse Wide's budget. */
export function resnetFlopBudget(arch: ResNetArch, opts: Pick<ResNetOptions, 'numClasses' | 'inputShape'> = {}): number {
  const dense = resolveWithoutSearch(arch, { ...opts, family: 'dense', sparsity: 0 });
  return countFlops(resnetOps(dense), 'official').dense;
}

/**
 * Resolves widths, block options and the mask sparsity. For Sparse Wide with the budget search on,
 * s* solves dense_part + (1 − s*)·maskable = budget on the widened model (docs/flops.md#sparse-wide-budget).
 */
export function resolveResNet(arch: ResNetArch, opts: ResNetOptions): ResolvedResNet {
  const r = resolveWithoutSearch(arch, opts);
  if (opts.family !== 'sparse-wide' || opts.flopBudgetSearch === false) return r;
  return { ...r, maskSparsity: sparseWideMaskSparsity(resnetOps(r), resnetFlopBudget(arch, opts)) };
}

/** How the block convs apply the family: what model.ts builds and ops.ts counts. */
export function blockFamilyOptions(r: ResolvedResNet): FamilyOptions {
  return {
    family: r.family,
    sparsity: r.sparsity,
    maskSparsity: r.maskSparsity,
    parallelSigma: r.parallelSigma,
    factorizedMiddle: r.factorizedMiddle,
    factorizedUOnly: r.factorizedUOnly,
    dopedMaskLowRank: r.dopedMaskLowRank,
  };
}
