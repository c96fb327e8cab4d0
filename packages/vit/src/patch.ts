/**
 * The ViT layers around the transformer blocks: cutting the image into flattened patches (a
 * reshape, so the patch embedding is a Dense and trains on wasm, whose backend has no
 * Conv2DBackpropFilter kernel), prepending the class token, and reading the class token back out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import type { FlopOpContext, HasFlopOps, PlanOp } from '@sparse-ift/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

const single = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);
const singleShape = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) ? s[0] : s) as Shape;

export interface PatchifyArgs extends LayerArgs {
  patchSize: number;
}

/**
 * [B, H, W, C] → [B, (H/p)·(W/p), p·p·C], each patch flattened in (row, column, channel) order, so
 * a Dense on it equals a p×p stride-p conv with the same [p, p, C, d] kernel, reshaped.
 */
export class Patchify extends layers.Layer implements HasFlopOps {
  static className = 'Patchify';
  readonly patchSize: number;

  constructor(args: PatchifyArgs) {
    super(args);
    if (!Number.isInteger(args.patchSize) || args.patchSize <= 0) {
      throw new RangeError(`Patchify '${this.name}': patchSize must be a positive integer, got ${args.patchSize}`);
    }
    this.patchSize = args.patchSize;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = singleShape(inputShape);
    const p = this.patchSize;
    if (h == null || w == null || c == null || h % p !== 0 || w % p !== 0) {
      throw new Error(`Patchify '${this.name}': needs NHWC input with H and W multiples of ${p}, got [${singleShape(inputShape).join(', ')}]`);
    }
    return [b ?? null, (h / p) * (w / p), p * p * c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const p = this.patchSize;
      // [B·H/p, p, W/p, p·C] → [B·H/p, W/p, p, p·C]: rank-4 transposes only.
      const rows = tf.reshape(x, [b * (h / p), p, w / p, p * c]);
      return tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b, (h / p) * (w / p), p * p * c]);
    });
  }

  flopOps(_context: FlopOpContext): PlanOp[] {
    return [];
  }

  override getConfig(): serialization.ConfigDict {
    return { patchSize: this.patchSize, ...super.getConfig() };
  }
}
serialization.registerClass(Patchify);

export interface ClassTokenArgs extends LayerArgs {
  /** Std of the token's normal init (timm: 1e-6). */
  initStd?: number;
  /** Seed of the token's init; unseeded if absent. */
  seed?: number;
}

/** [B, N, d] → [B, N + 1, d] with a learned token in front. */
export class ClassToken extends layers.Layer implements HasFlopOps {
  static className = 'ClassToken';
  readonly initStd: number;
  readonly seed: number | undefined;
  private token: LayerVariable | null = null;

  constructor(args: ClassTokenArgs = {}) {
    super(args);
    this.initStd = args.initStd ?? 1e-6;
    this.seed = args.seed ?? undefined;
  }

  override build(inputShape: Shape | Shape[]): void {
    const d = singleShape(inputShape)[2];
    if (d == null) throw new Error(`ClassToken '${this.name}': needs [B, N, d] with known d`);
    this.token = this.addWeight('cls_token', [1, 1, d], 'float32', initializers.randomNormal({ mean: 0, stddev: this.initStd, ...(this.seed === undefined ? {} : { seed: this.seed }) }));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, n, d] = singleShape(inputShape);
    return [b ?? null, n == null ? null : n + 1, d ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [b, , d] = x.shape as [number, number, number];
      // Broadcast by adding to zeros: its gradient is a sum over the batch (no Tile gradient needed).
      const cls = tf.add(tf.zeros([b, 1, d]), this.token!.read());
      return tf.concat([cls, x], 1);
    });
  }

  flopOps(_context: FlopOpContext): PlanOp[] {
    return [];
  }

  override getConfig(): serialization.ConfigDict {
    return { initStd: this.initStd, seed: this.seed ?? null, ...super.getConfig() };
  }
}
serialization.registerClass(ClassToken);

/** [B, N, d] → [B, d]: the token at index 0 (the class token), for the head. */
export class SelectClassToken extends layers.Layer implements HasFlopOps {
  static className = 'SelectClassToken';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(inputShape);
    return [s[0] ?? null, s[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [b, , d] = x.shape as [number, number, number];
      return tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, d]), [b, d]);
    });
  }

  flopOps(_context: FlopOpContext): PlanOp[] {
    return [];
  }
}
serialization.registerClass(SelectClassToken);
