/**
 * Mask updaters: static, SET and RigL (docs/sparse-training.md: #training-step, #static, #schedule, #rigl, #set). One drop/grow core on typed arrays
 * ({@link dropAndGrow}) is shared by SET and RigL; they differ only in how they pick grown positions.
 *
 * Per update, per masked tensor with n_on ones and drop fraction α:
 * - drop: keep the n_keep = n_on − floor(α·n_on) on-positions with the largest |w| (post-step weights);
 * - grow: n_grow = max(0, int((1−s)·numel − n_keep)) positions among the non-kept ones (just-dropped
 *   positions are eligible): RigL by largest |dense grad|, SET uniformly at random.
 * Ties are broken by flat index (lower first), so an update is deterministic given its inputs. The
 * official code ranks with an unstable sort instead, and ranks *all* positions for growth, so when
 * fewer than n_grow non-kept positions have a nonzero score it can "grow" already-kept ones and end
 * below the target count; we grow only non-kept positions and always reach it.
 *
 * Weight/state rules: positions off in the old mask start at weight 0 with zero optimiser state; a
 * position dropped and regrown in the same update keeps its weight and state. After every step, update
 * or not, weights and optimiser slots are multiplied by the mask, except where that multiplies zeros by
 * zero: after a step whose gradients were masked, by an optimizer that keeps zeros (see `StaticUpdater.step`).
 *
 * On a GPU backend the updaters run this where the masks live (./mask-update-device.ts: the same masks
 * and ties) instead of reading weights, masks and gradients to the host; see {@link MaskUpdatePlacement}.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MaskedParam } from './masked-param.js';
import type { SlotProvider } from './optimizers.js';
import { Rng, SEED_STREAMS, rngFor, type RngState } from './rng.js';
import { MaskUpdateSchedule, type MaskUpdateScheduleConfig, type MaskUpdateScheduleOptions } from './schedule.js';
import { topKIndices } from './top-k.js';
import { dropAndGrowOnDevice, type Growth } from './mask-update-device.js';

export { topKIndices } from './top-k.js';

// ---------------------------------------------------------------------------------------------
// The pure core.
// ---------------------------------------------------------------------------------------------

/** Chooses `count` of the `candidates` (ascending flat indices) to turn on. */
export type GrowRule = (candidates: Int32Array, count: number) => Int32Array;

/** RigL's rule: the candidates with the largest |dense gradient|. */
export function growByGradient(denseGrad: ArrayLike<number>): GrowRule {
  const magnitude = new Float64Array(denseGrad.length);
  for (let i = 0; i < magnitude.length; i++) magnitude[i] = Math.abs(denseGrad[i]);
  return (candidates, count) => topKIndices(magnitude, candidates, count);
}

/** SET's rule: `count` candidates uniformly at random, without replacement. */
export function growAtRandom(rng: Rng): GrowRule {
  return (candidates, count) => rng.sampleWithoutReplacement(candidates, count);
}

export interface DropGrowResult {
  /** The new 0/1 mask. */
  mask: Float32Array;
  /** Ones in the old mask. */
  nOn: number;
  /** floor(α·n_on). */
  nPrune: number;
  nKeep: number;
  nGrow: number;
  /** Grown positions that were on in the old mask (dropped and immediately regrown). */
  nRegrown: number;
}

/**
 * Number of ones a drop/grow grows back to: int((1−s)·numel − n_keep), evaluated in float32 as the
 * official code does (a Python float minus a torch int tensor gives a float32 tensor). It matters at
 * integer boundaries: (1 − 0.9)·100 is 9.999999999999998 in float64 but 10 in float32.
 */
export function growCount(sparsity: number, numel: number, nKeep: number): number {
  const target = Math.fround(Math.fround((1 - sparsity) * numel) - Math.fround(nKeep));
  return Math.max(0, Math.trunc(target));
}

/** One SET/RigL mask update of one tensor (pure: reads its inputs, returns a new mask). */
export function dropAndGrow(args: {
  weight: ArrayLike<number>;
  mask: ArrayLike<number>;
  sparsity: number;
  dropFraction: number;
  grow: GrowRule;
}): DropGrowResult {
  const { weight, mask, sparsity, dropFraction, grow } = args;
  const numel = mask.length;
  if (weight.length !== numel) throw new RangeError(`weight has ${weight.length} values but mask ${numel}`);
  if (!(dropFraction >= 0 && dropFraction <= 1)) throw new RangeError(`drop fraction must be in [0, 1], got ${dropFraction}`);

  let nOn = 0;
  for (let i = 0; i < numel; i++) if (mask[i] !== 0) nOn++;
  const on = new Int32Array(nOn);
  for (let i = 0, j = 0; i < numel; i++) if (mask[i] !== 0) on[j++] = i;

  // Drop: masked entries are 0 and would rank last, so ranking only the on-positions is the same
  // ranking with ties resolved in favour of on-positions.
  const nPrune = Math.trunc(dropFraction * nOn);
  const nKeep = nOn - nPrune;
  const magnitude = new Float64Array(numel);
  for (const i of on) magnitude[i] = Math.abs(weight[i]);
  const kept = topKIndices(magnitude, on, nKeep);

  const next = new Float32Array(numel);
  for (const i of kept) next[i] = 1;
  const notKept = new Int32Array(numel - nKeep);
  for (let i = 0, j = 0; i < numel; i++) if (next[i] === 0) notKept[j++] = i;

  const nGrow = Math.min(growCount(sparsity, numel, nKeep), notKept.length);
  const grown = grow(notKept, nGrow);
  if (grown.length !== nGrow) throw new Error(`grow rule returned ${grown.length} positions, expected ${nGrow}`);
  let nRegrown = 0;
  for (const i of grown) {
    if (next[i] !== 0) throw new Error(`grow rule picked position ${i}, which is already kept`);
    next[i] = 1;
    if (mask[i] !== 0) nRegrown++;
  }
  return { mask: next, nOn, nPrune, nKeep, nGrow, nRegrown };
}

// ---------------------------------------------------------------------------------------------
// Updaters: the mask optimiser of the training loop.
// ---------------------------------------------------------------------------------------------

/**
 * The sparse-training methods: dense (no masks), static masks, SET (drop by magnitude, grow at random)
 * and RigL (grow by dense-gradient magnitude). Every package names a run's method with this type.
 */
export const SPARSE_METHODS = ['dense', 'static', 'set', 'rigl'] as const;
export type SparseMethod = (typeof SPARSE_METHODS)[number];

export interface TensorUpdateReport extends Omit<DropGrowResult, 'mask'> {
  name: string;
  /** Ones after the update, over numel. */
  density: number;
}

export interface MaskUpdateReport {
  step: number;
  dropFraction: number;
  tensors: TensorUpdateReport[];
}

export interface UpdaterState {
  kind: MaskUpdater['kind'];
  /** Mask-updater steps taken (the counter t). */
  step: number;
  /** Present for SET (its growth draws). */
  rng?: RngState;
  schedule?: MaskUpdateScheduleConfig;
}

export interface UpdaterStepArgs {
  /** Unmasked gradients of this step's mini-batch by `MaskedParam.name`; RigL needs them on update steps. */
  denseGrads?: ReadonlyMap<string, tf.Tensor>;
  /** Whose slots (momentum, Adam moments) are masked with the weights. */
  optimizer?: SlotProvider;
  /**
   * Called on an update step before anything is read: a train step that checks its loss on the device
   * (sparseTrainStep with a `FiniteGuard`) checks it here, so no mask is ranked from a non-finite step.
   */
  beforeMaskUpdate?: () => void;
  /**
   * Every masked weight's gradient in the optimizer step just taken was multiplied by its mask
   * (`sparseTrainStep` and the fit callback's are). With an optimizer that `keepsZeros` the step then left
   * the weights and slots at 0 off the masks, and the masks are not multiplied in again.
   */
  gradientsMasked?: boolean;
}

export interface MaskUpdater {
  /** The method whose masks it keeps (a dense run has no masks: its updater is a StaticUpdater with none). */
  readonly kind: Exclude<SparseMethod, 'dense'>;
  /** The counter t: steps taken so far. */
  readonly stepCount: number;
  /** Must the coming backward (whose step will be t + 1) keep the unmasked gradient? */
  needsDenseGradient(): boolean;
  /**
   * Call once after every optimiser step: t ← t + 1; if t is an update step, update the masks; then
   * multiply weights and optimiser slots by the masks (unless they are 0 off the masks already: see
   * `gradientsMasked`). Returns the update's report, or null.
   */
  step(params: readonly MaskedParam[], args?: UpdaterStepArgs): MaskUpdateReport | null;
  state(): UpdaterState;
  loadState(state: UpdaterState): void;
}

/**
 * Multiply every weight and its optimiser slots by its mask (step 4 of docs/sparse-training.md#training-step). Gradients in tf.js
 * are not stored on the variables, so there are none to mask here: the train step masks them itself.
 */
export function applyMasks(params: readonly MaskedParam[], optimizer?: SlotProvider): void {
  tf.tidy(() => {
    for (const p of params) {
      p.weight.assign(tf.mul(p.weight, p.mask));
      for (const slot of optimizer?.slotsFor(p.weight) ?? []) slot.assign(tf.mul(slot, p.mask));
    }
  });
}

export class StaticUpdater implements MaskUpdater {
  readonly kind: MaskUpdater['kind'] = 'static';
  protected t = 0;
  /** The weights and the masks' data when this updater last made weights and slots 0 off the masks. */
  private applied: { weight: tf.Variable; mask: tf.Tensor['dataId'] }[] | undefined;

  get stepCount(): number {
    return this.t;
  }

  needsDenseGradient(): boolean {
    return false;
  }

  step(params: readonly MaskedParam[], args: UpdaterStepArgs = {}): MaskUpdateReport | null {
    this.t += 1;
    this.reapplyMasks(params, args, false);
    return null;
  }

  /**
   * Weights and slots ⊙ masks, unless provably a no-op: this updater applied these same masks (the same
   * mask data: a reassigned mask has new data) to these weights before, and every step since had masked
   * gradients and an optimizer that keeps zeros. Then each masked weight and slot entered the step at 0
   * (±0) with a 0 gradient and left it at 0, and ±0 · 0 is that same ±0: skipping changes no bit.
   * `afterMaskUpdate` forces the product (cheap: update steps are rare).
   */
  protected reapplyMasks(params: readonly MaskedParam[], args: UpdaterStepArgs, afterMaskUpdate: boolean): void {
    const applied = this.applied;
    const holds = !afterMaskUpdate && args.gradientsMasked === true && args.optimizer?.keepsZeros === true && applied !== undefined &&
      applied.length === params.length && params.every((p, i) => applied[i]!.weight === p.weight && applied[i]!.mask === p.mask.dataId);
    if (holds) return;
    applyMasks(params, args.optimizer);
    this.applied = params.map((p) => ({ weight: p.weight, mask: p.mask.dataId }));
  }

  state(): UpdaterState {
    return { kind: this.kind, step: this.t };
  }

  loadState(state: UpdaterState): void {
    if (state.kind !== this.kind) {
      throw new Error(`cannot load a '${state.kind}' mask updater state into a '${this.kind}' updater; use the method the checkpoint used`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`updater step must be an integer >= 0, got ${state.step}`);
    this.t = state.step;
    this.applied = undefined; // restored weights: mask them once more
  }
}

/**
 * Where a SET/RigL update runs: 'device' with tensor ops and core's mask-selection kernels on the backend
 * that holds the masks (./mask-update-device.ts), 'host' with {@link dropAndGrow} on copies read to
 * JavaScript; both give the same masks, counts and weights. 'auto' (default): 'host' on backends that keep
 * tensors in host memory ({@link HOST_MEMORY_BACKENDS}: there the copies are free and tf.js' elementwise
 * kernels slower than dropAndGrow's loops), 'device' on the others (webgpu, webgl, tensorflow).
 */
export type MaskUpdatePlacement = 'auto' | 'device' | 'host';

/** Backends whose tensors live in host memory, where 'auto' updates masks on the host. */
export const HOST_MEMORY_BACKENDS: readonly string[] = ['cpu', 'wasm', 'native'];

export interface DynamicUpdaterOptions {
  schedule: MaskUpdateSchedule;
  placement?: MaskUpdatePlacement;
}

abstract class DynamicUpdater extends StaticUpdater {
  readonly schedule: MaskUpdateSchedule;
  readonly placement: MaskUpdatePlacement;

  constructor(options: DynamicUpdaterOptions) {
    super();
    this.schedule = options.schedule;
    this.placement = options.placement ?? 'auto';
    if (!['auto', 'device', 'host'].includes(this.placement)) throw new RangeError(`mask update placement must be 'auto', 'device' or 'host', got '${String(this.placement)}'`);
  }

  override needsDenseGradient(): boolean {
    return false;
  }

  /** How this method picks grown positions, for this step. */
  protected abstract growth(args: UpdaterStepArgs): Growth;

  override step(params: readonly MaskedParam[], args: UpdaterStepArgs = {}): MaskUpdateReport | null {
    this.t += 1;
    let report: MaskUpdateReport | null = null;
    if (this.schedule.isUpdateStep(this.t)) {
      args.beforeMaskUpdate?.();
      const dropFraction = this.schedule.dropFraction(this.t);
      const growth = this.growth(args);
      const onHost = this.placement === 'host' || (this.placement === 'auto' && HOST_MEMORY_BACKENDS.includes(tf.getBackend()));
      const tensors = !onHost
        ? dropAndGrowOnDevice({ params, dropFraction, growth, optimizer: args.optimizer })
        : params.map((p) => dropAndGrowOnHost(p, dropFraction, growth, args.optimizer));
      report = { step: this.t, dropFraction, tensors };
    }
    this.reapplyMasks(params, args, report !== null);
    return report;
  }

  override state(): UpdaterState {
    return { ...super.state(), schedule: this.schedule.toJSON() };
  }
}

/** One tensor's update on the host: its weight, mask (and RigL's gradient) read to JavaScript. */
function dropAndGrowOnHost(p: MaskedParam, dropFraction: number, growth: Growth, optimizer: SlotProvider | undefined): TensorUpdateReport {
  const result = dropAndGrow({
    weight: p.weight.dataSync(),
    mask: p.mask.dataSync(),
    sparsity: p.sparsity,
    dropFraction,
    grow: 'random' in growth ? growAtRandom(growth.random) : growByGradient(growth.byGradient(p).dataSync()),
  });
  tf.tidy(() => {
    const oldMask = tf.clone(p.mask);
    const newMask = tf.tensor(result.mask, p.mask.shape, p.mask.dtype);
    // Positions off in the old mask start at 0 (weight and state), even if an invariant was broken.
    const keepValues = tf.mul(oldMask, newMask);
    p.weight.assign(tf.mul(p.weight, keepValues));
    for (const slot of optimizer?.slotsFor(p.weight) ?? []) slot.assign(tf.mul(slot, keepValues));
    p.mask.assign(newMask);
  });
  const { mask, ...counts } = result;
  return { name: p.name, ...counts, density: (counts.nKeep + counts.nGrow) / mask.length };
}

/** SET: grows uniformly at random among non-kept positions; new weights start at 0. */
export class SETUpdater extends DynamicUpdater {
  override readonly kind: MaskUpdater['kind'] = 'set';
  private rng: Rng;

  constructor(options: DynamicUpdaterOptions & { rng: Rng }) {
    super(options);
    this.rng = options.rng;
  }

  protected growth(): Growth {
    return { random: this.rng };
  }

  override state(): UpdaterState {
    return { ...super.state(), rng: this.rng.getState() };
  }

  override loadState(state: UpdaterState): void {
    super.loadState(state);
    if (!state.rng) throw new Error('SET updater state has no RNG state; it was not saved by SETUpdater.state()');
    this.rng = Rng.fromState(state.rng);
  }
}

/** RigL: grows the non-kept positions with the largest |unmasked gradient| of the same mini-batch. */
export class RigLUpdater extends DynamicUpdater {
  override readonly kind: MaskUpdater['kind'] = 'rigl';

  constructor(options: DynamicUpdaterOptions) {
    super(options);
  }

  override needsDenseGradient(): boolean {
    return this.schedule.needsDenseGradient(this.t + 1);
  }

  protected growth(args: UpdaterStepArgs): Growth {
    return {
      byGradient: (param) => {
        const grad = args.denseGrads?.get(param.name);
        if (!grad) {
          throw new Error(
            `RigL update at step ${this.t} has no dense gradient for '${param.name}'; capture it when updater.needsDenseGradient() is true (sparseTrainStep does)`,
          );
        }
        if (grad.size !== param.weight.size) {
          throw new Error(`dense gradient of '${param.name}' has ${grad.size} values, the weight ${param.weight.size}`);
        }
        return grad;
      },
    };
  }
}

/** How a mask updater is chosen: by method, with its schedule and (SET) seed. */
export interface MaskUpdaterOptions {
  /** 'dense' and 'static' get a StaticUpdater (a dense run has no masks for it to keep). */
  method: SparseMethod;
  /** SET and RigL only: when masks change and how much (see {@link MaskUpdateSchedule}). */
  schedule?: MaskUpdateScheduleOptions;
  /**
   * SET only: its growth draws come from the run's mask-growth stream, `rngFor(seed, SEED_STREAMS.maskGrowth)`
   * (docs/seeding.md), so `train()` and the fit callback draw the same for the same seed.
   */
  seed?: number;
}

/** The updater for a method: one place that maps a method name to its updater. */
export function createMaskUpdater(options: MaskUpdaterOptions): MaskUpdater {
  const { method, schedule, seed } = options;
  if (method === 'dense' || method === 'static') return new StaticUpdater();
  if (method !== 'set' && method !== 'rigl') throw new RangeError(`unknown sparse-training method '${String(method)}'; use one of ${SPARSE_METHODS.join(', ')}`);
  if (!schedule) throw new Error(`${method === 'set' ? 'SET' : 'RigL'} needs a mask update schedule ({ totalSteps, frequency, ... })`);
  const built = new MaskUpdateSchedule(schedule);
  if (method === 'rigl') return new RigLUpdater({ schedule: built });
  if (seed === undefined) throw new Error('SET grows masks at random: give it a seed');
  return new SETUpdater({ schedule: built, rng: rngFor(seed, SEED_STREAMS.maskGrowth) });
}
