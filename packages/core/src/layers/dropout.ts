/**
 * Dropout as a layer on core's device-drawn `dropout` op (Philox, one kernel each way, no mask saved for
 * the gradient). The same maths as tfjs-layers' Dropout, whose masks are drawn in JavaScript. Its mask
 * stream is the layer's name, so within a `withDropoutContext` (the trainer sets one per step and
 * micro-batch) each layer's masks depend only on (seed, step, micro-batch, layer). Costs no FLOPs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type Shape } from '@tensorflow/tfjs-layers';
import { dropout } from '../ops/dropout.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

export interface DropoutArgs extends LayerArgs {
  /** Probability of zeroing an element while training, in [0, 1). */
  rate: number;
}

export class Dropout extends layers.Layer {
  static className = 'SparseIftDropout';
  readonly rate: number;

  constructor(args: DropoutArgs) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new RangeError(`Dropout '${this.name}': rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return ((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return kwargs['training'] === true ? dropout(x, this.rate, this.name) : x;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
serialization.registerClass(Dropout);
