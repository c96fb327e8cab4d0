/**
 * Multi-head scaled dot-product attention as a weightless tf.js layer: it takes the projected
 * [q, k, v] (each [B, T, d]) and returns the concatenated heads [B, T, d]. The q/k/v and output
 * projections are ordinary (masked) linear layers around it, so every Sparse-IFT family transforms
 * them with core's `sparseIftDense`, and masks are found through their roles.
 *
 * Ops: reshape, transpose, batched matMul, add, softmax, and core's dropout (its mask drawn on the
 * device, see core's ops/dropout.ts): all have kernels and gradients on every backend. The causal mask is
 * built once per sequence length and backend, and reused by every layer and step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type Shape } from '@tensorflow/tfjs-layers';
import { dropout, withDropoutContext, type FlopOpContext, type HasFlopOps, type PlanOp } from '@sparse-ift/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

export interface DotProductAttentionArgs extends LayerArgs {
  heads: number;
  /** Position t attends only to positions ≤ t (decoders). */
  causal: boolean;
  /** Dropout on the attention probabilities while training. Default 0. */
  dropout?: number;
  /**
   * A fixed seed for the attention dropout (tests): the same mask at every call. Without it the mask
   * follows the trainer's dropout context (seed, step, micro-batch) under the stream of the layer's name.
   */
  dropoutSeed?: number;
}

/** Large negative logit for masked positions: exp underflows to exactly 0 in float32. */
const MASKED_LOGIT = -1e9;

/** [T, T] additive causal mask: 0 where key ≤ query, −1e9 above the diagonal. */
export function causalMaskBias(t: number): tf.Tensor2D {
  const values = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = MASKED_LOGIT;
  return tf.tensor2d(values, [t, t]);
}

/** Causal masks already on a backend, per sequence length (a backend started again gets its own). */
const causalMasks = new WeakMap<object, Map<number, tf.Tensor2D>>();

/**
 * The causal mask for length `t` on the current backend, built and uploaded once and kept for the life
 * of that backend (not per layer and step). Never dispose it.
 */
export function cachedCausalMaskBias(t: number): tf.Tensor2D {
  const backend = tf.engine().backend;
  let byLength = causalMasks.get(backend);
  if (!byLength) causalMasks.set(backend, (byLength = new Map()));
  let mask = byLength.get(t);
  if (!mask || mask.isDisposed) {
    mask = tf.keep(causalMaskBias(t));
    byLength.set(t, mask);
  }
  return mask;
}

export class DotProductAttention extends layers.Layer implements HasFlopOps {
  static className = 'DotProductAttention';
  readonly heads: number;
  readonly causal: boolean;
  readonly dropout: number;
  readonly dropoutSeed: number | undefined;

  constructor(args: DotProductAttentionArgs) {
    super(args);
    if (!Number.isInteger(args.heads) || args.heads <= 0) {
      throw new RangeError(`DotProductAttention '${this.name}': heads must be a positive integer, got ${args.heads}`);
    }
    if (typeof args.causal !== 'boolean') {
      throw new Error(`DotProductAttention '${this.name}': say causal: true (decoder) or false (encoder)`);
    }
    const dropout = args.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) {
      throw new RangeError(`DotProductAttention '${this.name}': dropout must be in [0, 1), got ${dropout}`);
    }
    this.heads = args.heads;
    this.causal = args.causal;
    this.dropout = dropout;
    this.dropoutSeed = args.dropoutSeed ?? undefined;
  }

  private checkShapes(inputShape: Shape | Shape[]): Shape {
    if (!Array.isArray(inputShape[0]) || inputShape.length !== 3) {
      throw new Error(`DotProductAttention '${this.name}' takes three inputs [q, k, v]`);
    }
    const [q, k, v] = inputShape as Shape[];
    const d = q![q!.length - 1];
    if (q!.length !== 3 || d == null) throw new Error(`DotProductAttention '${this.name}': q must be [B, T, d] with known d, got [${q!.join(', ')}]`);
    if (k![k!.length - 1] !== d || v![v!.length - 1] !== d) {
      throw new Error(`DotProductAttention '${this.name}': q, k and v must have the same width, got ${d}, ${k![k!.length - 1]}, ${v![v!.length - 1]}`);
    }
    if (d % this.heads !== 0) {
      throw new Error(`DotProductAttention '${this.name}': width ${d} is not divisible by ${this.heads} heads`);
    }
    return q!;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.checkShapes(inputShape).slice();
  }

  override build(inputShape: Shape | Shape[]): void {
    this.checkShapes(inputShape);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 3) throw new Error(`DotProductAttention '${this.name}' takes three inputs [q, k, v]`);
      const [q, k, v] = inputs as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const [b, t, d] = q.shape;
      const tk = k.shape[1];
      const dh = d / this.heads;
      // [B, T, d] → [B, H, T, dh]
      const split = (x: tf.Tensor3D, len: number) => tf.transpose(tf.reshape(x, [b, len, this.heads, dh]), [0, 2, 1, 3]);
      const qh = split(q, t);
      const kh = split(k, tk);
      const vh = split(v, tk);
      let scores: tf.Tensor = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(dh));
      if (this.causal) {
        if (tk !== t) throw new Error(`DotProductAttention '${this.name}': causal attention needs as many keys as queries, got ${tk} and ${t}`);
        scores = tf.add(scores, cachedCausalMaskBias(t));
      }
      let probs: tf.Tensor = tf.softmax(scores, -1);
      const training = (kwargs as { training?: boolean } | undefined)?.training === true;
      if (training && this.dropout > 0) {
        const p = probs;
        probs = this.dropoutSeed === undefined
          ? dropout(p, this.dropout, this.name)
          : withDropoutContext({ seed: this.dropoutSeed >>> 0, step: 0 }, () => dropout(p, this.dropout, this.name));
      }
      const context = tf.matMul(probs as tf.Tensor4D, vh as tf.Tensor4D); // [B, H, T, dh]
      return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
    });
  }

  /** QKᵀ and AV as non-module matmuls (all T×T scores, as docs/reference-values.md#gpt-3-small counts), softmax; per sample. */
  flopOps(context: FlopOpContext): PlanOp[] {
    const [t, d] = context.inputShapes[0] as [number, number];
    const tk = (context.inputShapes[1] as [number, number])[0];
    return attentionOps(this.name, { queries: t, keys: tk, width: d, heads: this.heads });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      heads: this.heads,
      causal: this.causal,
      dropout: this.dropout,
      dropoutSeed: this.dropoutSeed ?? null,
      ...super.getConfig(),
    };
  }
}
serialization.registerClass(DotProductAttention);

/**
 * The attention matmuls as ops (per sample): QKᵀ is H × (T×dh · dh×T), AV is H × (T×T · T×dh),
 * written as one matmul with m = H·T so MACs are T²·d each. Neither is an nn.Module in the
 * reference code, so the official counter does not see them (`counted: false`); the paper view does.
 */
export function attentionOps(name: string, a: { queries: number; keys: number; width: number; heads: number }): PlanOp[] {
  const dh = a.width / a.heads;
  return [
    { kind: 'matmul', name: `${name}/qk`, m: a.heads * a.queries, k: dh, n: a.keys, counted: false, role: 'attention-scores' },
    {
      kind: 'softmax',
      name: `${name}/softmax`,
      numel: a.heads * a.queries * a.keys,
      axisSize: a.keys,
      counted: false,
      role: 'softmax',
    },
    { kind: 'matmul', name: `${name}/av`, m: a.heads * a.queries, k: a.keys, n: dh, counted: false, role: 'attention-context' },
  ];
}
