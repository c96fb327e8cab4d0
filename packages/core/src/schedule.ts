/**
 * When SET/RigL update masks and how much they drop (docs/sparse-training.md#schedule; pitfalls
 * docs/deviations.md#pitfall-gradient-timing, #pitfall-step-counting).
 *
 * The counter t counts mask-updater steps and is incremented *before* the check, so the first step
 * is t = 1. An update happens iff begin < t < end and t mod ΔT == 0. Float expressions follow the
 * official code's order so drop fractions match it to the last bit.
 */

export const DROP_FRACTION_DECAYS = ['cosine', 'constant', 'exponential'] as const;
export type DropFractionDecay = (typeof DROP_FRACTION_DECAYS)[number];

export interface MaskUpdateScheduleOptions {
  /** Optimiser steps in the whole run: floor(iterations per epoch · epochs / grad accumulation). */
  totalSteps: number;
  /** ΔT, steps between mask updates (default 100). */
  frequency?: number;
  /** First step counted by the anneal; updates need t > begin (default 0). */
  begin?: number;
  /** Updates stop at end = int(endFraction · totalSteps); a fraction in (0, 1] (default 0.75). */
  endFraction?: number;
  /** Absolute end step instead of `endFraction` (give at most one of the two). */
  endStep?: number;
  /** α₀, the initial drop fraction, in [0, 1) (default 0.3). */
  dropFraction?: number;
  /** How α anneals from α₀ (default 'cosine'). */
  decay?: DropFractionDecay;
  /** E of the exponential decay α₀·exp(−E·(t − begin)/(end − begin)) (default 1). */
  decayExponent?: number;
}

/** Plain-JSON description, e.g. for a run's config file. */
export interface MaskUpdateScheduleConfig {
  totalSteps: number;
  frequency: number;
  begin: number;
  end: number;
  dropFraction: number;
  decay: DropFractionDecay;
  decayExponent: number;
}

export class MaskUpdateSchedule {
  readonly totalSteps: number;
  readonly frequency: number;
  readonly begin: number;
  readonly end: number;
  readonly initialDropFraction: number;
  readonly decay: DropFractionDecay;
  readonly decayExponent: number;

  constructor(options: MaskUpdateScheduleOptions) {
    const { totalSteps } = options;
    if (!Number.isInteger(totalSteps) || totalSteps <= 0) {
      throw new RangeError(`totalSteps must be a positive integer, got ${totalSteps}`);
    }
    const frequency = options.frequency ?? 100;
    if (!Number.isInteger(frequency) || frequency <= 0) {
      throw new RangeError(`mask update frequency ΔT must be a positive integer, got ${frequency}`);
    }
    const begin = options.begin ?? 0;
    if (!Number.isInteger(begin) || begin < 0) throw new RangeError(`begin must be an integer >= 0, got ${begin}`);
    if (options.endFraction !== undefined && options.endStep !== undefined) {
      throw new Error('give either endFraction or endStep for the mask update schedule, not both');
    }
    let end: number;
    if (options.endStep !== undefined) {
      end = options.endStep;
      if (!Number.isInteger(end)) throw new RangeError(`endStep must be an integer, got ${end}`);
    } else {
      const fraction = options.endFraction ?? 0.75;
      if (!(fraction > 0 && fraction <= 1)) {
        throw new RangeError(`endFraction must be in (0, 1], got ${fraction}`);
      }
      end = Math.trunc(fraction * totalSteps); // Python int(0.75 * num_updates)
    }
    if (end <= begin) throw new RangeError(`mask updates end (${end}) must come after begin (${begin})`);
    const dropFraction = options.dropFraction ?? 0.3;
    if (!(dropFraction >= 0 && dropFraction < 1)) {
      throw new RangeError(`initial drop fraction must be in [0, 1), got ${dropFraction}`);
    }
    const decay = options.decay ?? 'cosine';
    if (!(DROP_FRACTION_DECAYS as readonly string[]).includes(decay)) {
      throw new RangeError(`unknown drop fraction decay '${decay}'; use one of ${DROP_FRACTION_DECAYS.join(', ')}`);
    }
    const decayExponent = options.decayExponent ?? 1;
    if (!Number.isFinite(decayExponent)) throw new RangeError(`decayExponent must be finite, got ${decayExponent}`);

    this.totalSteps = totalSteps;
    this.frequency = frequency;
    this.begin = begin;
    this.end = end;
    this.initialDropFraction = dropFraction;
    this.decay = decay;
    this.decayExponent = decayExponent;
  }

  /** Is t (the counter after its increment) a mask-update step? */
  isUpdateStep(t: number): boolean {
    return this.begin < t && t < this.end && t % this.frequency === 0;
  }

  /**
   * Should the backward pass that leads to counter value `tNext` (after increment) keep the unmasked
   * gradient? Exactly when `tNext` is an update step: RigL grows from the gradient of the same
   * mini-batch whose optimiser step has just been applied (docs/sparse-training.md#rigl, docs/deviations.md#pitfall-gradient-timing). The official hook also
   * captures at t = end when end is a multiple of ΔT, a gradient it then never uses; we skip it.
   */
  needsDenseGradient(tNext: number): boolean {
    return this.isUpdateStep(tNext);
  }

  /** Drop fraction α(t) at step t (meaningful at update steps). */
  dropFraction(t: number): number {
    const span = this.end - this.begin;
    let m: number;
    switch (this.decay) {
      case 'constant':
        m = 1;
        break;
      case 'cosine':
        m = Math.cos((Math.PI * (t - this.begin)) / span);
        m = m * 0.5 + 0.5;
        break;
      case 'exponential':
        m = Math.exp((-this.decayExponent * (t - this.begin)) / span);
        break;
    }
    return this.initialDropFraction * m;
  }

  /** Every update step, ascending. */
  updateSteps(): number[] {
    const steps: number[] = [];
    const first = (Math.floor(this.begin / this.frequency) + 1) * this.frequency;
    for (let t = first; t < this.end; t += this.frequency) steps.push(t);
    return steps;
  }

  /** Number of mask updates in the run. */
  numUpdates(): number {
    return this.updateSteps().length;
  }

  toJSON(): MaskUpdateScheduleConfig {
    return {
      totalSteps: this.totalSteps,
      frequency: this.frequency,
      begin: this.begin,
      end: this.end,
      dropFraction: this.initialDropFraction,
      decay: this.decay,
      decayExponent: this.decayExponent,
    };
  }

  /** Rebuild from {@link toJSON} output. */
  static fromJSON(config: MaskUpdateScheduleConfig): MaskUpdateSchedule {
    return new MaskUpdateSchedule({
      totalSteps: config.totalSteps,
      frequency: config.frequency,
      begin: config.begin,
      endStep: config.end,
      dropFraction: config.dropFraction,
      decay: config.decay,
      decayExponent: config.decayExponent,
    });
  }
}
