/**
 * GELU as a layer on core's fused `gelu` op (one kernel pair where the backend registers it). Same values
 * as tfjs-layers' `activation: 'gelu'` (exact, erf) or `'gelu_new'` (tanh approximation), which run ~10
 * kernels forward and ~20 backward. Its FLOP op is a 'gelu', counted only under a `_module` name, like
 * the Activation layer it replaces (the official code calls F.gelu).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type Shape } from '@tensorflow/tfjs-layers';
import { isCountedLayerName, type FlopOpContext, type HasFlopOps, type PlanOp } from '../model-flops.js';
import { gelu, type GeluApproximation } from '../ops/gelu.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

export interface GeluArgs extends LayerArgs {
  /** 'erf' (exact; default) or 'tanh' (GPT-2's approximation). */
  approximate?: GeluApproximation;
}

export class Gelu extends layers.Layer implements HasFlopOps {
  static className = 'SparseIftGelu';
  readonly approximate: GeluApproximation;

  constructor(args: GeluArgs = {}) {
    super(args);
    const approximate = args.approximate ?? 'erf';
    if (approximate !== 'erf' && approximate !== 'tanh') {
      throw new Error(`Gelu '${this.name}': approximate must be 'erf' or 'tanh', got '${String(approximate)}'`);
    }
    this.approximate = approximate;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return ((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return gelu(Array.isArray(inputs) ? inputs[0]! : inputs, this.approximate);
  }

  flopOps(context: FlopOpContext): PlanOp[] {
    const numel = context.outputShapes[0]!.reduce((a, b) => a * b, 1);
    return [{ kind: 'gelu', name: this.name, numel, counted: isCountedLayerName(this.name), role: 'activation' }];
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), approximate: this.approximate };
  }
}
serialization.registerClass(Gelu);
