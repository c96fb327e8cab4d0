/**
 * Sparse training inside tf.js `model.fit` and `model.fitDataset`: a callback that runs static, SET or
 * RigL on a LayersModel built with core's masked layers, in the step order of `sparseTrainStep`.
 *
 * `fit` computes gradients inside the model's optimizer and gives callbacks none, and RigL needs the
 * dense gradient of the update step's batch. So while fit runs, the callback puts a thin optimizer in
 * front of the model's own ({@link MaskedGradientOptimizer}): it computes the gradients as core's step
 * does (masks opened for the backward of an update step; masked weights' gradients multiplied by their
 * masks) and hands them to the model's optimizer. After each batch the callback steps the mask updater:
 * t ← t + 1, drop/grow on update steps, then weights and optimizer slots (momentum, Adam moments)
 * multiplied by the masks (skipped where the model's optimizer keeps masked zeros at zero: tf.js SGD,
 * momentum, Adam; see updaters.ts). When fit ends, the model gets its own optimizer back.
 *
 * Masks and seeds: the callback trains the masks the layers hold (drawn when they were built, from
 * their `maskSeed`) and draws none, so every weight is masked exactly once. `seed` only seeds SET's
 * growth draws, on the mask-growth stream `train()` uses: `rngFor(seed, SEED_STREAMS.maskGrowth)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Callback, LayersModel } from '@tensorflow/tfjs-layers';
import { collectMaskedParams } from '../layers/collect.js';
import type { MaskedParam } from '../masked-param.js';
import type { SlotProvider } from '../optimizers.js';
import type { MaskUpdateScheduleOptions } from '../schedule.js';
import { maskedGradients } from '../train-step.js';
import { applyMasks, createMaskUpdater, type MaskUpdateReport, type MaskUpdater } from '../updaters.js';

export interface SparseTrainingOptions extends Partial<Omit<MaskUpdateScheduleOptions, 'totalSteps'>> {
  /** static keeps the masks; SET and RigL drop and regrow them on the schedule. */
  method: MaskUpdater['kind'];
  /**
   * Optimizer steps of the whole run, for the schedule's end and drop-fraction anneal. Default: fit's
   * epochs × batches per epoch, read when the first fit starts. Give it when one run spans several fits.
   */
  totalSteps?: number;
  /** SET: seeds the growth draws (required for SET). */
  seed?: number;
  /** Called after each mask update with what it did. */
  onMaskUpdate?: (report: MaskUpdateReport) => void;
}

/** tfjs-core's `{ name, tensor }` pair (its type is not exported). */
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

/** The model property tf.js keeps private: whether `model.dispose()` disposes the optimizer. */
interface OwnsOptimizer {
  isOptimizerOwned: boolean;
}

/**
 * A tf.js optimizer in front of another: gradients as core's sparse step computes them, applied by the
 * optimizer behind it. Installed by {@link SparseTraining} for the length of a fit.
 */
export class MaskedGradientOptimizer extends tf.Optimizer {
  static className = 'SparseIftMaskedGradientOptimizer';
  /** Dense gradients of the last batch, by `MaskedParam.name`, when the updater asked for them. */
  pendingDenseGrads = new Map<string, tf.Tensor>();

  constructor(
    readonly inner: tf.Optimizer,
    private readonly maskedParams: readonly MaskedParam[],
    private readonly updater: MaskUpdater,
  ) {
    super();
  }

  override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    if (!varList) throw new Error('MaskedGradientOptimizer needs the variables to train (model.fit passes them); call minimize(f, returnCost, varList)');
    this.disposePending();
    const { value, grads, denseGrads } = maskedGradients({
      maskedParams: this.maskedParams,
      backward: () => tf.variableGrads(f, varList),
      keepDense: this.updater.needsDenseGradient(),
    });
    // fit runs the step inside tf.tidy; the dense gradients must outlive it until the batch ends.
    for (const g of denseGrads.values()) tf.keep(g);
    this.pendingDenseGrads = denseGrads;
    return { value, grads };
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.inner.applyGradients(variableGradients);
  }

  override get iterations(): number {
    return this.inner.iterations;
  }

  disposePending(): void {
    for (const g of this.pendingDenseGrads.values()) g.dispose();
    this.pendingDenseGrads = new Map();
  }

  override dispose(): void {
    this.disposePending(); // the optimizer behind belongs to the model
  }

  override getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override setWeights(weightValues: NamedTensor[]): Promise<void> {
    return this.inner.setWeights(weightValues);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.inner.getConfig();
  }
}

/**
 * Sparse training as a `model.fit` / `model.fitDataset` callback:
 * `await model.fit(x, y, { epochs, batchSize, callbacks: [new SparseTraining({ method: 'rigl', frequency: 100 })] })`.
 * Compile the model first, with any tf.js optimizer. Put this callback first in the list, so the
 * callbacks after it see the masks of the batch that just ended.
 */
export class SparseTraining extends Callback {
  private readonly options: SparseTrainingOptions;
  private updater_: MaskUpdater | undefined;
  private maskedParams: MaskedParam[] = [];
  private installed: { optimizer: MaskedGradientOptimizer; owned: boolean } | undefined;

  constructor(options: SparseTrainingOptions) {
    super();
    if (options.method === 'set' && options.seed === undefined) {
      throw new Error("SparseTraining: SET grows masks at random; give it a seed (e.g. { method: 'set', seed: 0 })");
    }
    this.options = options;
  }

  /** The mask updater (its step counter and state), once the first fit has started. */
  get updater(): MaskUpdater | undefined {
    return this.updater_;
  }

  /** The masked weights being trained (those fit trains), found when fit starts. */
  get trainedMaskedParams(): readonly MaskedParam[] {
    return this.maskedParams;
  }

  override async onTrainBegin(): Promise<void> {
    const model = this.model;
    if (!(model instanceof LayersModel)) throw new Error('SparseTraining works with a tf.js LayersModel (tf.model / tf.sequential)');
    const current = model.optimizer as tf.Optimizer | undefined;
    if (!current) throw new Error('SparseTraining: compile the model (model.compile({ optimizer, loss })) before fit');
    // `instanceof` is no test here: tf.Optimizer calls anything with minimize/applyGradients an instance.
    const inner = current.getClassName() === MaskedGradientOptimizer.className ? (current as MaskedGradientOptimizer).inner : current; // left by a fit that threw
    // A frozen layer keeps its mask: only masked weights that fit trains take part.
    const trainable = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).name));
    this.maskedParams = collectMaskedParams(model).filter((mp) => trainable.has(mp.weight.name));
    if (this.maskedParams.length === 0) {
      throw new Error(`SparseTraining: model '${model.name}' has no trainable masked weights; build it with core's masked layers (MaskedDense, MaskedConv2D, sparseIftDense, sparseIftConv2D)`);
    }
    const updater = (this.updater_ ??= this.createUpdater());
    const optimizer = new MaskedGradientOptimizer(inner, this.maskedParams, updater);
    const owned = (model as unknown as OwnsOptimizer).isOptimizerOwned;
    model.optimizer = optimizer;
    this.installed = { optimizer, owned };
    // The layers' own masks, applied (again: masking is idempotent) to weights and any optimizer state.
    await this.withSlots(inner, (slots) => applyMasks(this.maskedParams, slots));
  }

  override async onBatchEnd(): Promise<void> {
    const optimizer = this.installed?.optimizer;
    if (!optimizer || !this.updater_) return;
    const updater = this.updater_;
    const report = await this.withSlots(optimizer.inner, (slots) =>
      updater.step(this.maskedParams, { denseGrads: optimizer.pendingDenseGrads, optimizer: slots, gradientsMasked: true }),
    );
    optimizer.disposePending();
    if (report) this.options.onMaskUpdate?.(report);
  }

  override async onTrainEnd(): Promise<void> {
    if (!this.installed) return;
    const { optimizer, owned } = this.installed;
    this.model.optimizer = optimizer.inner;
    (this.model as unknown as OwnsOptimizer).isOptimizerOwned = owned;
    optimizer.disposePending();
    this.installed = undefined;
  }

  private createUpdater(): MaskUpdater {
    const { method, seed, onMaskUpdate: _, totalSteps: given, ...schedule } = this.options;
    if (method === 'static') return createMaskUpdater({ method });
    return createMaskUpdater({ method, seed, schedule: { ...schedule, totalSteps: given ?? this.stepsOfFit() } });
  }

  /** epochs × batches per epoch of the fit that is starting (fit: ⌈samples / batchSize⌉; fitDataset: batchesPerEpoch). */
  private stepsOfFit(): number {
    const { epochs, steps, samples, batchSize } = this.params as Record<string, unknown>;
    const perEpoch = typeof steps === 'number' ? steps : typeof samples === 'number' && typeof batchSize === 'number' ? Math.ceil(samples / batchSize) : undefined;
    if (typeof epochs !== 'number' || perEpoch === undefined) {
      throw new Error('SparseTraining cannot tell how many steps this fit runs (a dataset without a size); pass totalSteps, or batchesPerEpoch to fitDataset');
    }
    return epochs * perEpoch;
  }

  /**
   * Runs `fn` with the optimizer's slots of each variable. tf.js optimizers list them only through the
   * async `getWeights()`, named `<variable name>/<slot>` (momentum, m, v, ...); they are the live state.
   */
  private async withSlots<T>(optimizer: tf.Optimizer, fn: (slots: SlotProvider) => T): Promise<T> {
    const weights = await optimizer.getWeights();
    try {
      const byVariable = new Map<string, tf.Variable[]>();
      for (const w of weights) {
        const cut = w.name.lastIndexOf('/');
        if (cut < 0 || !(w.tensor instanceof tf.Variable)) continue;
        const owner = w.name.slice(0, cut);
        byVariable.set(owner, [...(byVariable.get(owner) ?? []), w.tensor]);
      }
      return fn({ slotsFor: (v) => byVariable.get(v.name) ?? [], keepsZeros: keepsZeros(optimizer) });
    } finally {
      // Only the iteration count is a fresh tensor; the slots are the optimizer's own variables.
      for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
    }
  }
}

/**
 * tf.js optimizers whose update of a weight with zero gradient and zero state (created as zeros) is zero:
 * SGD, momentum (Nesterov too) and Adam with ε > 0. Others (Adagrad starts its accumulator at 0.1, RMSProp,
 * Adadelta, Adamax, anything custom) get their masks re-applied after every step.
 */
function keepsZeros(optimizer: tf.Optimizer): boolean {
  const name = optimizer.getClassName();
  if (name === 'SGD' || name === 'Momentum') return true;
  return name === 'Adam' && Number(optimizer.getConfig()['epsilon']) > 0;
}
