/**
 * Registers the ResNet zoo with core's model registry on import (docs/recipes.md#cifar-100-resnet-18, docs/recipes.md#imagenet-resnet):
 * resnet18-cifar, resnet34-cifar, resnet18-imagenet, resnet34-imagenet and resnet-mini-cifar.
 */
import { FACTORIZED_MIDDLES, FAMILIES, getModelDefinition, registerModel, type FactorizedMiddle, type ModelDefinition, type ModelOptions } from '@sparse-ift/core';
import { RESNET_ARCHS, resolveResNet, type ResNetArch, type ResNetOptions } from './config.js';
import { buildResolvedResNet } from './model.js';
import { resnetOps } from './ops.js';

const OPTION_HELP: Record<string, string> = {
  flopBudgetSearch: 'Sparse Wide: solve the mask sparsity s* that matches the dense FLOP budget (default true)',
  factorizedMiddle: "Sparse Factorized middle: 'linear' | 'nonlinear_norelu' | 'nonlinear_relu' (default) | 'relu'",
  factorizedUOnly: 'Sparse Factorized: only U sparse (default false)',
  dopedMaskLowRank: 'Sparse Doped: mask U and V too, as the released code does (default false; breaks iso-FLOP)',
  parallelSigma: "Sparse Parallel per-branch σ: 'bn' (CIFAR default) | 'bn-relu' (ImageNet default)",
  zeroInitResidual: 'zero-init the last BN γ of plain blocks, dense and Sparse Wide only (default true)',
  numClasses: 'number of classes (overrides the architecture)',
  inputShape: 'per-sample input [H, W, C] (overrides the architecture; CIFAR stem needs 28..32)',
};

function pick<T>(opts: ModelOptions, key: string, check: (v: unknown) => v is T, what: string): T | undefined {
  const v = opts[key];
  if (v === undefined) return undefined;
  if (!check(v)) throw new Error(`option ${key} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isShape = (v: unknown): v is [number, number, number] => Array.isArray(v) && v.length === 3 && v.every(isPositiveInt);
const isMiddle = (v: unknown): v is ResNetOptions['factorizedMiddle'] => FACTORIZED_MIDDLES.includes(v as FactorizedMiddle);
const isBranchNorm = (v: unknown): v is 'bn' | 'bn-relu' => v === 'bn' || v === 'bn-relu';

/** Registry options → typed ResNet options, with each override's value checked. */
export function toResNetOptions(opts: ModelOptions): ResNetOptions {
  // Unknown option names are refused by core's resolveModelOptions, from OPTION_HELP (the definition's `options`).
  const out: ResNetOptions = { family: opts.family, sparsity: opts.sparsity };
  if (opts.seed !== undefined) out.seed = opts.seed;
  const set = <K extends keyof ResNetOptions>(k: K, v: ResNetOptions[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('flopBudgetSearch', pick(opts, 'flopBudgetSearch', isBool, 'true or false'));
  set('factorizedMiddle', pick(opts, 'factorizedMiddle', isMiddle, FACTORIZED_MIDDLES.join(', ')));
  set('factorizedUOnly', pick(opts, 'factorizedUOnly', isBool, 'true or false'));
  set('dopedMaskLowRank', pick(opts, 'dopedMaskLowRank', isBool, 'true or false'));
  set('parallelSigma', pick(opts, 'parallelSigma', isBranchNorm, "'bn' or 'bn-relu'"));
  set('zeroInitResidual', pick(opts, 'zeroInitResidual', isBool, 'true or false'));
  set('numClasses', pick(opts, 'numClasses', isPositiveInt, 'a positive integer'));
  set('inputShape', pick(opts, 'inputShape', isShape, 'three positive integers [H, W, C]'));
  return out;
}

const PAPER: Record<string, ModelDefinition['paper']> = {
  'resnet18-cifar': { params: 11_220_132, officialFlops: 1_115_226_800, source: 'docs/reference-values.md#cifar-100-resnet-18' },
  'resnet18-imagenet': { params: 11_689_512, officialFlops: 3_647_128_359, source: 'docs/reference-values.md#imagenet' },
  'resnet34-imagenet': { params: 21_797_672, officialFlops: 7_355_270_501, source: 'docs/reference-values.md#imagenet' },
};

function describe(arch: ResNetArch): string {
  const depth = arch.blocksPerStage.reduce((a, b) => a + b, 0) * 2 + 2;
  const stem = arch.stem === 'cifar' ? 'CIFAR stem (3×3, no max-pool)' : 'ImageNet stem (7×7/2 + max-pool)';
  return `ResNet-${depth} (BasicBlock, width ${arch.baseWidth}, ${stem}), ${arch.inputShape.join('×')} → ${arch.numClasses} classes`;
}

export function resnetDefinition(arch: ResNetArch): ModelDefinition {
  return {
    name: arch.name,
    description: describe(arch),
    task: 'image-classification',
    inputShape: [...arch.inputShape],
    numClasses: arch.numClasses,
    families: FAMILIES,
    options: OPTION_HELP,
    create: (opts) => buildResolvedResNet(resolveResNet(arch, toResNetOptions(opts))),
    flopOps: (opts) => resnetOps(resolveResNet(arch, toResNetOptions(opts))),
    ...(PAPER[arch.name] ? { paper: PAPER[arch.name] } : {}),
    package: '@sparse-ift/resnet',
  };
}

let registered = false;

/** Registers every ResNet (idempotent; runs on import of the package). */
export function registerResNets(): void {
  if (registered) return;
  for (const arch of RESNET_ARCHS) {
    let exists = false;
    try {
      getModelDefinition(arch.name);
      exists = true;
    } catch {
      exists = false;
    }
    if (!exists) registerModel(resnetDefinition(arch));
  }
  registered = true;
}
