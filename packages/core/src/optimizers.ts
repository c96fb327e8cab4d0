/**
 * SGD and AdamW with PyTorch's exact update equations and with their per-variable state (slots) in
 * plain `tf.Variable`s, so the mask updater can zero the momentum / Adam moments of masked weights
 * (step 4 of docs/sparse-training.md#training-step; docs/deviations.md#pitfall-mask-optimizer-state) and checkpoints can save and restore them.
 *
 * Why our own and not tf.js's: tf.js' `MomentumOptimizer` has no weight decay or PyTorch-style
 * Nesterov, `AdamOptimizer` keeps its moments private and has no decoupled decay, and neither lets a
 * caller reach a variable's slots by the variable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamWUpdate, sgdUpdate } from './ops/optimizer-update.js';

/** Anything that keeps per-variable state that must be masked with the weight. */
export interface SlotProvider {
  /** The state tensors of `variable` with its shape (momentum, exp_avg, ...); [] if it has none. */
  slotsFor(variable: tf.Variable): tf.Variable[];
  /**
   * True when an update leaves a weight and its slots at zero wherever they and the gradient are zero
   * (SGD: weight decay and momentum of zeros are zero; AdamW: 0 / (0 + ε) when ε > 0). Masks applied once
   * then stay applied while the gradients are masked, and the mask updater skips re-applying them.
   */
  readonly keepsZeros?: boolean;
}

/** Which variables get weight decay. */
export type DecayFilter = (variable: tf.Variable) => boolean;

/**
 * The ImageNet recipe's filter (`filter_norm_and_bias`, docs/deviations.md#pitfall-weight-decay-scope): no decay on 1-D params (norm
 * scales/offsets, biases) or on anything whose name ends in `bias`.
 */
export const decayOnlyMatrices: DecayFilter = (v) => v.shape.length > 1 && !/bias(_\d+)?$/.test(v.name);

export interface OptimizerState {
  kind: 'sgd' | 'adamw';
  /** Hyper-parameters, for a check on restore (the learning rate is restored too). */
  config: Record<string, number | boolean>;
  /** Per variable name: how many updates it has had (PyTorch's per-param `step`). */
  steps: Record<string, number>;
  /** Per variable name, per slot name: the slot values (flat, row-major). */
  slots: Record<string, Record<string, Float32Array>>;
}

export interface SparseOptimizer extends SlotProvider {
  readonly variables: readonly tf.Variable[];
  /** Learning rate used by the next `applyGradients`; set it every step for a schedule. */
  learningRate: number;
  /**
   * One update from gradients keyed by variable name (the `grads` of `tf.variableGrads`). A variable
   * with no entry is skipped, like a PyTorch param whose grad is None. Does not dispose the grads.
   * `onlyIf` (a bool scalar on the device) gates every write: where it is false, weights and slots keep
   * their values (the per-variable step counts, kept on the host, still advance).
   */
  applyGradients(grads: tf.NamedTensorMap, options?: { onlyIf?: tf.Tensor }): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}

abstract class SlottedOptimizer implements SparseOptimizer {
  readonly variables: readonly tf.Variable[];
  private lr: number;
  protected readonly byName = new Map<string, tf.Variable>();
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();
  protected readonly steps = new Map<string, number>();

  protected constructor(variables: readonly tf.Variable[], learningRate: number, slotNames: readonly string[]) {
    this.variables = [...variables];
    this.lr = checkLearningRate(learningRate);
    for (const v of variables) {
      if (this.byName.has(v.name)) throw new Error(`optimizer got variable '${v.name}' twice; pass each once`);
      if (v.dtype !== 'float32') throw new Error(`optimizer variable '${v.name}' is ${v.dtype}; only float32 is supported`);
      this.byName.set(v.name, v);
      this.steps.set(v.name, 0);
      const own = new Map<string, tf.Variable>();
      // Auto-named: tf.js names are global, and two optimizers may serve the same variables.
      for (const slot of slotNames) own.set(slot, tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
      this.slots.set(v.name, own);
    }
  }

  get learningRate(): number {
    return this.lr;
  }

  set learningRate(value: number) {
    this.lr = checkLearningRate(value);
  }

  slotsFor(variable: tf.Variable): tf.Variable[] {
    const own = this.slots.get(variable.name);
    return own && this.byName.get(variable.name) === variable ? [...own.values()] : [];
  }

  protected slot(variable: tf.Variable, name: string): tf.Variable {
    return this.slots.get(variable.name)!.get(name)!;
  }

  protected abstract kind(): OptimizerState['kind'];
  protected abstract config(): Record<string, number | boolean>;
  /** One variable's update (./ops/optimizer-update.ts: one kernel where the backend has it); `onlyIf` gates its writes. */
  protected abstract update(variable: tf.Variable, grad: tf.Tensor, step: number, onlyIf: tf.Tensor | undefined): void;

  applyGradients(grads: tf.NamedTensorMap, options: { onlyIf?: tf.Tensor } = {}): void {
    for (const name of Object.keys(grads)) {
      if (!this.byName.has(name)) {
        throw new Error(`gradient for '${name}', which this optimizer does not own; build the optimizer with every trainable variable`);
      }
    }
    for (const v of this.variables) {
      const g = grads[v.name];
      if (!g) continue;
      if (g.shape.join(',') !== v.shape.join(',')) {
        throw new Error(`gradient of '${v.name}' has shape [${g.shape}] but the variable is [${v.shape}]`);
      }
      const step = this.steps.get(v.name)! + 1;
      this.steps.set(v.name, step);
      tf.tidy(() => this.update(v, g, step, options.onlyIf));
    }
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, own] of this.slots) {
      slots[name] = {};
      for (const [slotName, slot] of own) slots[name][slotName] = slot.dataSync().slice() as Float32Array;
    }
    return {
      kind: this.kind(),
      config: { ...this.config(), learningRate: this.lr },
      steps: Object.fromEntries(this.steps),
      slots,
    };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind()) {
      throw new Error(`cannot load ${state.kind} optimizer state into ${this.kind()}; build the optimizer the checkpoint used`);
    }
    for (const name of this.byName.keys()) {
      if (!(name in state.slots) || !(name in state.steps)) {
        throw new Error(`optimizer state has no entry for variable '${name}'; was it saved from the same model?`);
      }
    }
    for (const [name, own] of this.slots) {
      for (const [slotName, slot] of own) {
        const values = state.slots[name][slotName];
        if (!values || values.length !== slot.size) {
          throw new Error(`optimizer state slot '${name}/${slotName}' has ${values?.length ?? 0} values, expected ${slot.size}`);
        }
        tf.tidy(() => slot.assign(tf.tensor(values, slot.shape, 'float32')));
      }
      this.steps.set(name, state.steps[name]);
    }
    const lr = state.config.learningRate;
    if (typeof lr === 'number') this.learningRate = lr;
  }

  dispose(): void {
    for (const own of this.slots.values()) for (const slot of own.values()) slot.dispose();
    this.slots.clear();
  }
}

export interface SGDOptions {
  learningRate: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Coupled L2 decay: the gradient becomes g + wd·w (PyTorch SGD). */
  weightDecay?: number;
  /** Which variables decay (default: all, as the CIFAR recipe). */
  decayFilter?: DecayFilter;
}

/**
 * PyTorch `torch.optim.SGD`:
 *   g ← g + wd·w;  b ← g on the first step, else b ← μ·b + (1 − dampening)·g;
 *   g ← g + μ·b (Nesterov) or g ← b;  w ← w − lr·g.
 * Slot: `momentum` (PyTorch's `momentum_buffer`), present only when μ ≠ 0.
 */
export class SGD extends SlottedOptimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly decayFilter: DecayFilter;

  constructor(variables: readonly tf.Variable[], options: SGDOptions) {
    const momentum = options.momentum ?? 0;
    super(variables, options.learningRate, momentum !== 0 ? ['momentum'] : []);
    this.momentum = momentum;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    this.decayFilter = options.decayFilter ?? (() => true);
    if (momentum < 0 || this.weightDecay < 0) throw new RangeError('SGD momentum and weightDecay must be >= 0');
    if (this.nesterov && (momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('Nesterov SGD needs momentum > 0 and dampening 0 (as PyTorch)');
    }
  }

  get keepsZeros(): boolean {
    return true;
  }

  protected kind(): 'sgd' {
    return 'sgd';
  }

  protected config(): Record<string, number | boolean> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected update(v: tf.Variable, grad: tf.Tensor, step: number, onlyIf: tf.Tensor | undefined): void {
    const buffer = this.momentum !== 0 ? this.slot(v, 'momentum') : undefined;
    const [w, b] = sgdUpdate(
      { w: v, g: grad, momentum: buffer, onlyIf },
      {
        learningRate: this.learningRate,
        momentum: this.momentum,
        dampening: this.dampening,
        nesterov: this.nesterov,
        weightDecay: this.decayFilter(v) ? this.weightDecay : 0,
        firstStep: step === 1,
      },
    );
    v.assign(w!);
    if (buffer) buffer.assign(b!);
  }
}

export interface AdamWOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled decay: w ← w·(1 − lr·wd) before the Adam step (PyTorch AdamW, default 0.01). */
  weightDecay?: number;
  amsgrad?: boolean;
  decayFilter?: DecayFilter;
}

/**
 * PyTorch `torch.optim.AdamW` (defaults lr 1e-3, β = (0.9, 0.999), ε = 1e-8, wd = 0.01):
 *   w ← w·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *   w ← w − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)   (amsgrad: max of all v so far).
 * Slots: `exp_avg`, `exp_avg_sq` and, with amsgrad, `max_exp_avg_sq`.
 */
export class AdamW extends SlottedOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  private readonly decayFilter: DecayFilter;

  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    const amsgrad = options.amsgrad ?? false;
    super(variables, options.learningRate ?? 1e-3, amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq']);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.amsgrad = amsgrad;
    this.decayFilter = options.decayFilter ?? (() => true);
    for (const [name, beta] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(beta >= 0 && beta < 1)) throw new RangeError(`AdamW ${name} must be in [0, 1), got ${beta}`);
    }
    if (!(this.epsilon >= 0) || !(this.weightDecay >= 0)) throw new RangeError('AdamW epsilon and weightDecay must be >= 0');
  }

  /** With ε = 0 a zero weight's step is 0 / 0. */
  get keepsZeros(): boolean {
    return this.epsilon > 0;
  }

  protected kind(): 'adamw' {
    return 'adamw';
  }

  protected config(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, amsgrad: this.amsgrad };
  }

  protected update(v: tf.Variable, grad: tf.Tensor, step: number, onlyIf: tf.Tensor | undefined): void {
    const lr = this.learningRate;
    const [m, s, maxS] = [this.slot(v, 'exp_avg'), this.slot(v, 'exp_avg_sq'), this.amsgrad ? this.slot(v, 'max_exp_avg_sq') : undefined];
    const [w, mNext, sNext, maxSNext] = adamWUpdate(
      { w: v, g: grad, expAvg: m, expAvgSq: s, maxExpAvgSq: maxS, onlyIf },
      {
        decayFactor: this.weightDecay !== 0 && this.decayFilter(v) ? 1 - lr * this.weightDecay : 1,
        beta1: this.beta1,
        beta2: this.beta2,
        epsilon: this.epsilon,
        stepSize: lr / (1 - this.beta1 ** step),
        biasCorrection2Sqrt: Math.sqrt(1 - this.beta2 ** step),
        amsgrad: this.amsgrad,
      },
    );
    v.assign(w!);
    m.assign(mNext!);
    s.assign(sNext!);
    if (maxS) maxS.assign(maxSNext!);
  }
}

function checkLearningRate(lr: number): number {
  if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`learning rate must be a finite number >= 0, got ${lr}`);
  return lr;
}
