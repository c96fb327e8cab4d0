/**
 * SET/RigL mask updates where the masks live: the drop and grow of ./updaters.ts (`dropAndGrow`, the
 * host path) as tensor ops and core's mask-selection kernels (./ops/mask-select.ts), with the same
 * result, mask for mask, so a GPU never copies weights, masks and gradients to the host.
 *
 * Reads per update (not per step): the ones of every mask (one int32 per tensor, one synchronous read:
 * the top-k sizes and SET's draws depend on them), then the report's regrown counts and the NaN checks
 * (one more read) before any variable is assigned, so a NaN ranking throws with nothing changed, as on
 * the host. SET's growth is drawn on the host as ranks among the non-kept positions (`Rng.sampleIndices`,
 * O(grown) whatever the tensor's size: the same draws `dropAndGrow` makes) and selected on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MaskedParam } from './masked-param.js';
import type { SlotProvider } from './optimizers.js';
import { selectByRank, topKByMagnitude } from './ops/mask-select.js';
import type { Rng } from './rng.js';
import { growCount, type TensorUpdateReport } from './updaters.js';

/** How grown positions are picked: RigL by |dense gradient|, SET at random. */
export type Growth = { byGradient: (param: MaskedParam) => tf.Tensor } | { random: Rng };

interface Planned {
  param: MaskedParam;
  newMask: tf.Tensor;
  counts: Omit<TensorUpdateReport, 'name' | 'density' | 'nRegrown'>;
  /** Whether a NaN among the ranked values is an error (the host path ranks only when 0 < k < candidates). */
  ranksDrop: boolean;
  ranksGrow: boolean;
}

/** One drop/grow of every masked tensor; returns each tensor's report (as the host path's). */
export function dropAndGrowOnDevice(args: {
  params: readonly MaskedParam[];
  dropFraction: number;
  growth: Growth;
  optimizer?: SlotProvider;
}): TensorUpdateReport[] {
  const { params, dropFraction, growth, optimizer } = args;
  if (!(dropFraction >= 0 && dropFraction <= 1)) throw new RangeError(`drop fraction must be in [0, 1], got ${dropFraction}`);
  if (params.length === 0) return [];
  const onCounts = readInts(() => params.map((p) => tf.sum(tf.cast(tf.notEqual(p.mask, 0), 'int32'))));

  const planned: Planned[] = [];
  const checks: tf.Tensor[] = [];
  try {
    params.forEach((param, i) => {
      const numel = param.mask.size;
      const nOn = onCounts[i]!;
      const nPrune = Math.trunc(dropFraction * nOn);
      const nKeep = nOn - nPrune;
      const nGrow = Math.min(growCount(param.sparsity, numel, nKeep), numel - nKeep);
      // Drawn outside tidy: the rng draws happen in the same order as the host path's, tensor by tensor.
      const ranks = 'random' in growth ? growth.random.sampleIndices(numel - nKeep, nGrow) : undefined;
      const grad = 'byGradient' in growth ? growth.byGradient(param) : undefined;
      const newMask = tf.tidy(() => {
        const kept = topKByMagnitude(param.weight, param.mask, nKeep);
        const notKept = tf.sub(1, kept);
        const grown = ranks ? selectByRank(notKept, ranks) : topKByMagnitude(tf.reshape(grad!, param.mask.shape), notKept, nGrow);
        // Regrown positions, and NaNs among the values each ranking read.
        checks.push(
          tf.keep(tf.sum(tf.cast(tf.logicalAnd(tf.notEqual(grown, 0), tf.notEqual(param.mask, 0)), 'int32'))),
          tf.keep(nanCount(param.weight, param.mask)),
          tf.keep(grad ? nanCount(tf.reshape(grad, param.mask.shape), notKept) : tf.scalar(0, 'int32')),
        );
        return tf.add(kept, grown);
      });
      planned.push({
        param,
        newMask,
        counts: { nOn, nPrune, nKeep, nGrow },
        ranksDrop: nKeep > 0 && nKeep < nOn,
        ranksGrow: grad !== undefined && nGrow > 0 && nGrow < numel - nKeep,
      });
    });
    const checked = readInts(() => checks.splice(0));
    planned.forEach((p, i) => {
      const [, nanWeights, nanGrads] = checked.slice(3 * i, 3 * i + 3);
      if ((p.ranksDrop && nanWeights! > 0) || (p.ranksGrow && nanGrads! > 0)) {
        const what = p.ranksDrop && nanWeights! > 0 ? `${nanWeights} weights` : `${nanGrads} dense gradient entries`;
        throw new RangeError(`mask update of '${p.param.name}': ${what} are NaN; the weights or gradients have diverged`);
      }
    });
    const reports = planned.map((p, i): TensorUpdateReport => {
      const { param, newMask, counts } = p;
      tf.tidy(() => {
        // Positions off in the old mask start at 0 (weight and state), as the host path does.
        const keepValues = tf.mul(param.mask, newMask);
        param.weight.assign(tf.mul(param.weight, keepValues));
        for (const slot of optimizer?.slotsFor(param.weight) ?? []) slot.assign(tf.mul(slot, keepValues));
        param.mask.assign(newMask);
      });
      return { name: param.name, ...counts, nRegrown: checked[3 * i]!, density: (counts.nKeep + counts.nGrow) / param.mask.size };
    });
    return reports;
  } finally {
    for (const p of planned) p.newMask.dispose();
    for (const t of checks) t.dispose();
  }
}

/** NaNs of `values` where `where` is nonzero, as an int32 scalar. */
function nanCount(values: tf.Tensor, where: tf.Tensor): tf.Tensor {
  return tf.sum(tf.cast(tf.logicalAnd(tf.isNaN(values), tf.notEqual(where, 0)), 'int32'));
}

/** The int32 scalars `make` returns, read in one synchronous read (and disposed). */
function readInts(make: () => tf.Tensor[]): number[] {
  const stacked = tf.tidy(() => {
    const scalars = make();
    const out = tf.stack(scalars);
    for (const s of scalars) s.dispose();
    return out;
  });
  try {
    return Array.from(stacked.dataSync());
  } finally {
    stacked.dispose();
  }
}
