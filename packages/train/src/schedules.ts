/**
 * Learning-rate schedules (docs/recipes.md). Each is a pure function of the position in training, so a
 * resumed run recomputes the same rate from the step counter alone.
 */
export type LrSchedule =
  | { kind: 'constant' }
  /**
   * Multiply by `gamma` at each milestone epoch. `lateByOne` reproduces the official CIFAR quirk
   * (docs/recipes.md#cifar-100-resnet-18): the scheduler is stepped after the epoch with the epoch index, so the decay lands
   * one epoch late (milestone 60: epochs 0–60 use the base rate, 61+ the decayed one).
   */
  | { kind: 'multistep'; milestones: number[]; gamma: number; lateByOne?: boolean }
  /** Cosine from the base rate to `minFactor`·base over `epochs`, stepped once per epoch (ImageNet). */
  | { kind: 'cosine-epoch'; epochs: number; minFactor?: number }
  /** Linear warm-up over `warmupSteps` then cosine to `minFactor`·base at `totalSteps` (GPT: 0.1). */
  | { kind: 'warmup-cosine'; warmupSteps: number; totalSteps: number; minFactor: number };

export interface SchedulePosition {
  /** Optimiser steps already taken (0 for the first step). */
  step: number;
  /** Epoch index of the current step (0-based). */
  epoch: number;
}

export function learningRate(base: number, schedule: LrSchedule, at: SchedulePosition): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'multistep': {
      const passed = schedule.milestones.filter((m) => (schedule.lateByOne ? at.epoch > m : at.epoch >= m)).length;
      return base * schedule.gamma ** passed;
    }
    case 'cosine-epoch': {
      const min = base * (schedule.minFactor ?? 0);
      const t = Math.min(at.epoch, schedule.epochs) / schedule.epochs;
      return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * t));
    }
    case 'warmup-cosine': {
      const { warmupSteps, totalSteps, minFactor } = schedule;
      // Linear 0 → base over the warm-up steps (Cerebras' GPT configs, docs/recipes.md#gpt-3-small-wikitext-103).
      if (at.step < warmupSteps) return (base * at.step) / warmupSteps;
      const min = base * minFactor;
      const t = Math.min(1, (at.step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
      return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * t));
    }
  }
}

/**
 * An optional linear warm-up in front of any schedule: the rate of step t (0-based) is scaled by
 * (t + 1) / warmupSteps until warmupSteps steps are done ("gradual warmup", Goyal et al. 2017), so a
 * small model at a large rate does not blow up in its first steps.
 */
export function warmupFactor(step: number, warmupSteps = 0): number {
  return warmupSteps > 0 && step < warmupSteps ? (step + 1) / warmupSteps : 1;
}
