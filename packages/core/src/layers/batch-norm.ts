/**
 * BatchNorm over the last axis (channels-last), optionally fused with a residual add and a ReLU:
 *
 *   training:  y = relu?(BN_batch(x) + residual?)    (core's batchNormTrain: one kernel pair where the
 *                                                     backend registers it, e.g. wasm + native addon)
 *   inference: y = relu?(BN_running(x) + residual?)
 *
 * Called on `x` or on `[x, residual]`. It is tfjs-layers' BatchNormalization (same weights: gamma, beta,
 * moving_mean, moving_variance; same config; inference path inherited), with the training path replaced:
 * tf.js' own one composes ~20 kernels whose gradients cost more than a ResNet's convolutions.
 *
 * One difference, on purpose: the moving variance is updated with the unbiased batch variance
 * (× M/(M−1)), as PyTorch's BatchNorm2d does (tf.js uses the biased one), so eval-mode numbers match
 * the paper's code.
 *
 * FLOPs: one 'batchnorm' op; the fused add and ReLU are listed as `<name>_add` / `<name>_relu`, never
 * counted (they are F.relu and `out += shortcut` in the official code, docs/flops.md#official-counter).
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import type { BatchNormalization as TfBatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization.js';
import type { FlopOpContext, HasFlopOps, PlanOp } from '../model-flops.js';
import { batchNormTrain } from '../ops/batch-norm.js';

type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

// tfjs-layers exports a factory, not the class: take the class from the registry it serializes with.
const BatchNormalizationBase = (
  serialization.SerializationMap.getMap().classNameMap['BatchNormalization']![0] as unknown as typeof TfBatchNormalization
);

export interface BatchNormArgs extends BatchNormalizationLayerArgs {
  /** ReLU after the (residual) add. Default false. */
  relu?: boolean;
}

/** The parts of tfjs-layers' BatchNormalization this class reads (protected/private there). */
interface BatchNormInternals {
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
  momentum: number;
  epsilon: number;
  axis: number;
  center: boolean;
  scale: boolean;
}

export class BatchNorm extends BatchNormalizationBase implements HasFlopOps {
  static override className = 'SparseIftBatchNorm';
  readonly relu: boolean;
  /** The batchnorm op holds gamma and beta; moving statistics are buffers, not params. */
  readonly flopOpsCountParams = true;

  constructor(args: BatchNormArgs = {}) {
    const { relu, ...rest } = args;
    super({ axis: -1, momentum: 0.9, epsilon: 1e-5, ...rest });
    this.relu = relu ?? false;
    const self = this as unknown as BatchNormInternals;
    if (self.axis !== -1) throw new Error(`BatchNorm '${this.name}': only axis -1 (channels last) is supported, got ${self.axis}`);
    if (!(self.epsilon > 0)) throw new RangeError(`BatchNorm '${this.name}': epsilon must be > 0, got ${self.epsilon}`);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    if (shapes.length > 2) throw new Error(`BatchNorm '${this.name}': takes x or [x, residual], got ${shapes.length} inputs`);
    super.build(shapes[0]!);
    // tfjs-layers' inputSpec describes one input; ours may take two.
    this.inputSpec = null as unknown as typeof this.inputSpec;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return ((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0]!;
      const residual = list[1];
      if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) {
        throw new Error(`BatchNorm '${this.name}': the residual's shape [${residual.shape.join(',')}] differs from x's [${x.shape.join(',')}]`);
      }
      const self = this as unknown as BatchNormInternals;
      const training = (kwargs as { training?: boolean } | undefined)?.training === true;
      if (!training) {
        let y = super.call(x, kwargs) as tf.Tensor;
        if (residual) y = tf.add(y, residual);
        return this.relu ? tf.relu(y) : y;
      }
      const channels = x.shape[x.rank - 1]!;
      const gamma = self.gamma ? self.gamma.read() : tf.ones([channels]);
      const beta = self.beta ? self.beta.read() : tf.zeros([channels]);
      const { y, mean, variance } = batchNormTrain(x, gamma, beta, { epsilon: self.epsilon, relu: this.relu, residual });
      const rows = x.size / channels;
      const unbiased = rows > 1 ? tf.mul(variance, rows / (rows - 1)) : variance;
      // running ← running − (1 − momentum) · (running − batch), tf.js' momentum (PyTorch's is 1 − it).
      for (const [variable, value] of [[self.movingMean, mean], [self.movingVariance, unbiased]] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - self.momentum)));
      }
      return y;
    });
  }

  flopOps(context: FlopOpContext): PlanOp[] {
    const out = context.outputShapes[0]!;
    const channels = out[out.length - 1]!;
    const numel = out.reduce((a, b) => a * b, 1);
    const self = this as unknown as BatchNormInternals;
    const ops: PlanOp[] = [{ kind: 'batchnorm', name: this.name, channels, spatial: numel / channels, affine: self.scale || self.center, role: 'bn' }];
    if (context.inputShapes.length > 1) ops.push({ kind: 'add', name: `${this.name}_add`, numel, counted: false, role: 'add' });
    if (this.relu) ops.push({ kind: 'relu', name: `${this.name}_relu`, numel, counted: false, role: 'activation' });
    return ops;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), relu: this.relu };
  }
}
serialization.registerClass(BatchNorm);

/** `batchNorm({name, relu: true})`: channels-last BN with PyTorch's defaults (momentum 0.1 ↔ 0.9 here, ε 1e-5). */
export function batchNorm(args: BatchNormArgs = {}): BatchNorm {
  return new BatchNorm(args);
}
