/**
 * Registers the MLP-Mixers with core's model registry on import: mixer-s16, mixer-b16 and
 * mixer-mini-28, each with all five families.
 */
import {
  FACTORIZED_MIDDLES,
  FAMILIES,
  LINEAR_BRANCH_SIGMAS,
  registerModel,
  type FactorizedMiddle,
  type LinearBranchSigma,
  type ModelDefinition,
  type ModelOptions,
} from '@sparse-ift/core';
import { MIXER_ARCHS, resolveMixer, type MixerArch, type MixerOptions } from './config.js';
import { buildResolvedMixer } from './model.js';
import { mixerOps } from './ops.js';

const OPTION_HELP: Record<string, string> = {
  parallelSigma: `Sparse Parallel per-branch σ: ${LINEAR_BRANCH_SIGMAS.join(' | ')} (default identity)`,
  factorizedMiddle: `Sparse Factorized middle: ${FACTORIZED_MIDDLES.join(' | ')} (default nonlinear_norelu = LayerNorm)`,
  dopedMaskLowRank: 'Sparse Doped: mask U and V too, as the released code does (default false; breaks iso-FLOP)',
  flopBudgetSearch: 'Sparse Wide: solve the mask sparsity that matches the dense FLOP budget (default true)',
  numClasses: 'number of classes (overrides the architecture)',
};

/** Registry options → typed Mixer options; unknown keys and bad values are errors naming the valid ones. */
export function toMixerOptions(opts: ModelOptions): MixerOptions {
  const known = ['family', 'sparsity', 'method', 'seed', ...Object.keys(OPTION_HELP)];
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new Error(`unknown MLP-Mixer option '${key}'; valid: ${known.join(', ')}`);
  }
  const out: MixerOptions = { family: opts.family, sparsity: opts.sparsity, ...(opts.seed === undefined ? {} : { seed: opts.seed }) };
  const oneOf = <T>(key: string, valid: readonly T[]): T | undefined => {
    const v = opts[key];
    if (v !== undefined && !valid.includes(v as T)) throw new Error(`option ${key} must be one of ${valid.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T | undefined;
  };
  const parallelSigma = oneOf<LinearBranchSigma>('parallelSigma', LINEAR_BRANCH_SIGMAS);
  const factorizedMiddle = oneOf<FactorizedMiddle>('factorizedMiddle', FACTORIZED_MIDDLES);
  const dopedMaskLowRank = oneOf<boolean>('dopedMaskLowRank', [true, false]);
  const flopBudgetSearch = oneOf<boolean>('flopBudgetSearch', [true, false]);
  const numClasses = opts['numClasses'];
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && (numClasses as number) > 0)) {
    throw new Error(`option numClasses must be a positive integer, got ${JSON.stringify(numClasses)}`);
  }
  return {
    ...out,
    ...(parallelSigma === undefined ? {} : { parallelSigma }),
    ...(factorizedMiddle === undefined ? {} : { factorizedMiddle }),
    ...(dopedMaskLowRank === undefined ? {} : { dopedMaskLowRank }),
    ...(flopBudgetSearch === undefined ? {} : { flopBudgetSearch }),
    ...(numClasses === undefined ? {} : { numClasses: numClasses as number }),
  };
}

const PAPER: Record<string, ModelDefinition['paper']> = {
  'mixer-s16': { params: 18_528_264, source: "timm mixer_s16_224 (Tolstikhin et al. 2021, 'Mixer-S/16')" },
  'mixer-b16': { params: 59_880_472, source: "timm mixer_b16_224 (Tolstikhin et al. 2021, 'Mixer-B/16')" },
};

export function mixerDefinition(arch: MixerArch): ModelDefinition {
  return {
    name: arch.name,
    description: `MLP-Mixer ${arch.blocks} × C ${arch.hidden} (token MLP ${arch.tokenMlp}, channel MLP ${arch.channelMlp}), patch ${arch.patchSize} at ${arch.imageSize}²×${arch.channels}, ${arch.numClasses} classes`,
    task: 'image-classification',
    inputShape: [arch.imageSize, arch.imageSize, arch.channels],
    numClasses: arch.numClasses,
    families: FAMILIES,
    options: OPTION_HELP,
    create: (opts) => buildResolvedMixer(resolveMixer(arch, toMixerOptions(opts))),
    flopOps: (opts) => mixerOps(resolveMixer(arch, toMixerOptions(opts))),
    ...(PAPER[arch.name] ? { paper: PAPER[arch.name] } : {}),
    package: '@sparse-ift/mixer',
  };
}

export const MIXER_DEFINITIONS: readonly ModelDefinition[] = MIXER_ARCHS.map(mixerDefinition);

/** Idempotent: re-registering the same definition objects is allowed by the registry. */
export function registerMixers(): void {
  for (const def of MIXER_DEFINITIONS) registerModel(def);
}
