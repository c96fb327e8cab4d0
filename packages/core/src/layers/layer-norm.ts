/**
 * LayerNorm over the last axis: y = (x − mean) / sqrt(var + eps) · gamma + beta (biased variance,
 * as PyTorch's nn.LayerNorm).
 *
 * Why not tf.layers.layerNormalization: it tiles gamma and beta to the input's full shape and goes
 * through batchNorm, whose gradient on wasm spends almost all its time in Tile and Slice kernels
 * (a vit-mini-28 Sparse Factorized step: ~28 s with it in the U–V middle, vs well under a second
 * without). This one runs core's `layerNorm` op: one fused kernel pair where the backend registers it
 * (wasm with @sparse-ift/backend), broadcasting mean/sub/mul/rsqrt elsewhere.
 *
 * Serialized as className 'LayerNorm' (the name @sparse-ift/gpt registered it under before it moved
 * here), so GPT and ViT models saved earlier still load.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import type { FlopOpContext, HasFlopOps, PlanOp } from '../model-flops.js';
import { layerNorm } from '../ops/layer-norm.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

export interface LayerNormArgs extends LayerArgs {
  /** Default 1e-5 (PyTorch, GPT); ViT uses 1e-6. */
  epsilon?: number;
}

export class LayerNorm extends layers.Layer implements HasFlopOps {
  static className = 'LayerNorm';
  readonly epsilon: number;
  /** The layernorm op returned by flopOps holds gamma and beta: the walker must not list them again. */
  readonly flopOpsCountParams = true;
  private gamma: LayerVariable | null = null;
  private beta: LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    const eps = args.epsilon ?? 1e-5;
    if (!(eps > 0)) throw new RangeError(`LayerNorm '${this.name}': epsilon must be > 0, got ${eps}`);
    this.epsilon = eps;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const size = shape[shape.length - 1];
    if (size == null) throw new Error(`LayerNorm '${this.name}': the last axis must be known, got [${shape.join(', ')}]`);
    this.gamma = this.addWeight('gamma', [size], 'float32', initializers.ones());
    this.beta = this.addWeight('beta', [size], 'float32', initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return ((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return layerNorm(Array.isArray(inputs) ? inputs[0]! : inputs, this.gamma!.read(), this.beta!.read(), this.epsilon);
  }

  flopOps(context: FlopOpContext): PlanOp[] {
    const out = context.outputShapes[0]!;
    const size = out[out.length - 1]!;
    const rows = out.slice(0, -1).reduce((a, b) => a * b, 1);
    return [{ kind: 'layernorm', name: this.name, rows, size, affine: true, role: 'ln' }];
  }

  override getConfig(): serialization.ConfigDict {
    return { epsilon: this.epsilon, ...super.getConfig() };
  }
}
serialization.registerClass(LayerNorm);
