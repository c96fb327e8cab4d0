/**
 * MLP-Mixer architectures (Tolstikhin et al. 2021; timm's `mixer_{s,b}16_224`) and a small CPU
 * config, and the options every family takes. `resolveMixer` turns an architecture and options into
 * the widths the builder (model.ts) and the op list (ops.ts) both use. No tensors are allocated here.
 *
 * Sparse Wide widens every hidden width (channels C, token-MLP width, channel-MLP width) with core's
 * `sparseWideWidth`; the token count is the input side of the token MLP and stays. The mask sparsity
 * is then solved against the dense model's FLOPs (docs/flops.md#sparse-wide-budget), as for ResNets.
 */
import {
  countFlops,
  sparseWideMaskSparsity,
  sparseWideWidth,
  type FactorizedMiddle,
  type Family,
  type FamilyOptions,
  type LinearBranchSigma,
} from '@sparse-ift/core';
import { mixerOps } from './ops.js';

export interface MixerArch {
  /** Registry name, e.g. 'mixer-s16'. */
  name: string;
  imageSize: number;
  channels: number;
  patchSize: number;
  /** Hidden width C of the token embeddings. */
  hidden: number;
  blocks: number;
  /** Width of the token-mixing MLP (mixes the patches, per channel). */
  tokenMlp: number;
  /** Width of the channel-mixing MLP (mixes the channels, per patch). */
  channelMlp: number;
  numClasses: number;
}

/** timm mixer_s16_224: 18,528,264 parameters. */
export const MIXER_S16: MixerArch = { name: 'mixer-s16', imageSize: 224, channels: 3, patchSize: 16, hidden: 512, blocks: 8, tokenMlp: 256, channelMlp: 2048, numClasses: 1000 };
/** timm mixer_b16_224: 59,880,472 parameters. */
export const MIXER_B16: MixerArch = { name: 'mixer-b16', imageSize: 224, channels: 3, patchSize: 16, hidden: 768, blocks: 12, tokenMlp: 384, channelMlp: 3072, numClasses: 1000 };
/** CPU config for 28×28×1 images (MNIST, Fashion-MNIST): patch 7 → 16 tokens, 4 blocks × C 64. */
export const MIXER_MINI_28: MixerArch = { name: 'mixer-mini-28', imageSize: 28, channels: 1, patchSize: 7, hidden: 64, blocks: 4, tokenMlp: 32, channelMlp: 256, numClasses: 10 };

export const MIXER_ARCHS: readonly MixerArch[] = [MIXER_S16, MIXER_B16, MIXER_MINI_28];

export interface MixerOptions {
  family: Family;
  sparsity: number;
  seed?: number;
  /** Sparse Parallel per-branch σ of the MLP linears. Default 'identity'. */
  parallelSigma?: LinearBranchSigma;
  /** Sparse Factorized middle of the MLP linears. Default 'nonlinear_norelu' (LayerNorm). */
  factorizedMiddle?: FactorizedMiddle;
  /** Sparse Doped: mask U and V too. Default false. */
  dopedMaskLowRank?: boolean;
  /** Sparse Wide: solve the mask sparsity against the dense FLOP budget. Default true. */
  flopBudgetSearch?: boolean;
  numClasses?: number;
}

/** Everything the builders need, decided once. */
export interface ResolvedMixer {
  arch: MixerArch;
  tokens: number;
  hidden: number;
  tokenMlp: number;
  channelMlp: number;
  numClasses: number;
  /** How every MLP linear applies the family (maskSparsity: the budget-solved one for Sparse Wide). */
  linears: FamilyOptions;
  seed: number | undefined;
}

function resolveWithoutSearch(arch: MixerArch, o: MixerOptions): ResolvedMixer {
  if (arch.imageSize % arch.patchSize !== 0) throw new Error(`${arch.name}: image size ${arch.imageSize} is not a multiple of patch ${arch.patchSize}`);
  const sparsity = o.family === 'dense' ? 0 : o.sparsity;
  const wide = (w: number) => (o.family === 'sparse-wide' ? sparseWideWidth(w, sparsity) : w);
  return {
    arch,
    tokens: (arch.imageSize / arch.patchSize) ** 2,
    hidden: wide(arch.hidden),
    tokenMlp: wide(arch.tokenMlp),
    channelMlp: wide(arch.channelMlp),
    numClasses: o.numClasses ?? arch.numClasses,
    linears: {
      family: o.family,
      sparsity,
      parallelSigma: o.parallelSigma ?? 'identity',
      factorizedMiddle: o.factorizedMiddle ?? 'nonlinear_norelu',
      dopedMaskLowRank: o.dopedMaskLowRank ?? false,
    },
    seed: o.seed,
  };
}

/** The dense model's forward FLOPs per sample (official convention): Sparse Wide's budget. */
export function mixerFlopBudget(arch: MixerArch, o: Pick<MixerOptions, 'numClasses'> = {}): number {
  return countFlops(mixerOps(resolveWithoutSearch(arch, { ...o, family: 'dense', sparsity: 0 })), 'official').dense;
}

export function resolveMixer(arch: MixerArch, o: MixerOptions): ResolvedMixer {
  const r = resolveWithoutSearch(arch, o);
  if (o.family !== 'sparse-wide' || o.flopBudgetSearch === false) return r;
  const maskSparsity = sparseWideMaskSparsity(mixerOps(r), mixerFlopBudget(arch, o));
  return { ...r, linears: { ...r.linears, maskSparsity } };
}
