/**
 * MaskedDense: y = act(x · (kernel ⊙ mask) + bias), a tf.js Dense whose kernel carries a saved 0/1
 * mask (docs/sparse-training.md#mask-init). Accepts inputs of rank ≥ 2 (the last axis is the feature axis), like tf Dense.
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import type { Shape } from '@tensorflow/tfjs-layers';
import { canonicalActivationName, resolveActivation, type ActivationFn, type ActivationName } from './initializers.js';
import {
  MaskedKernelLayer,
  type BaseLayerArgs,
  type CallKwargs,
  type KernelArgs,
  type MaskArgs,
} from './masked-kernel.js';
import { maskedMatMul } from '../ops/masked.js';

export interface MaskedDenseArgs extends BaseLayerArgs, MaskArgs, KernelArgs {
  units: number;
  /** Activation after the bias. Default 'linear'. */
  activation?: ActivationName;
}

export class MaskedDense extends MaskedKernelLayer {
  static className = 'MaskedDense';
  readonly units: number;
  readonly activation: ActivationName;
  private readonly activationFn: ActivationFn;

  /** Default kernel initializer: glorotUniform, as tf.layers.dense. */
  constructor(args: MaskedDenseArgs) {
    super(args, 'glorotUniform');
    if (!Number.isInteger(args.units) || args.units <= 0) {
      throw new RangeError(`MaskedDense '${this.name}': units must be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    this.activation = canonicalActivationName(args.activation ?? 'linear');
    this.activationFn = resolveActivation(this.activation);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, this.name);
    const din = shape[shape.length - 1];
    if (shape.length < 2 || din == null) {
      throw new Error(`MaskedDense '${this.name}' needs an input of rank >= 2 with a known last axis, got [${shape.join(', ')}]`);
    }
    this.buildKernel([din, this.units], this.units);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape, this.name).slice();
    shape[shape.length - 1] = this.units;
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const din = x.shape[x.shape.length - 1]!;
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, din]);
      const { kernel, mask } = this.kernelAndMask();
      let y: tf.Tensor = mask ? maskedMatMul(flat, kernel, mask) : tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D);
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      if (x.rank !== 2) y = tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
      return this.activationFn.apply(y);
    });
  }

  override getConfig(): serialization.ConfigDict {
    return { units: this.units, activation: this.activation, ...this.maskConfig(), ...super.getConfig() };
  }
}
serialization.registerClass(MaskedDense);

export function singleShape(inputShape: Shape | Shape[], layerName: string): Shape {
  if (Array.isArray(inputShape[0])) {
    if (inputShape.length !== 1) throw new Error(`layer '${layerName}' takes one input, got ${inputShape.length}`);
    return inputShape[0] as Shape;
  }
  return inputShape as Shape;
}
