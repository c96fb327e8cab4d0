/**
 * Token and position embeddings, and the LM head tied to the token embedding.
 *
 * Tying: `TokenEmbedding` outputs both the embedded tokens and its table, and `TiedLMHead` takes
 * [hidden, table] and computes hidden · tableᵀ (no bias). The one weight lives in one layer, the
 * graph says where it is reused, and `model.save` / `tf.loadLayersModel` need nothing extra.
 *
 * The lookup's gradient is a scatter-add of the output gradient into the table's rows. tf.gather's
 * built-in gradient uses the UnsortedSegmentSum kernel, which tfjs-backend-wasm 4.22 lacks; when the
 * active backend has no such kernel the scatter-add runs in JS (O(tokens × d), exact).
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import type { FlopOpContext, HasFlopOps, PlanOp } from '@sparse-ift/core';
import { truncatedNormal } from './block.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

/** Rows of `table` at `ids`, with a gradient that works on every backend. */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  // customGrad passes the inputs, then the save function, as one variadic list.
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [tableIn, idsIn, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([idsIn]);
    return {
      value: tf.gather(tableIn, idsIn),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0]! : dy;
        return [scatterAddRows(g, saved[0]!, tableIn.shape as [number, number]), tf.zerosLike(saved[0]!)];
      },
    };
  });
  return lookup(table, ids);
}

/** dTable[ids[i]] += dy[i] for every token i. */
function scatterAddRows(dy: tf.Tensor, ids: tf.Tensor, tableShape: [number, number]): tf.Tensor {
  const [rows, d] = tableShape;
  const flatIds = tf.reshape(ids, [-1]);
  const flatDy = tf.reshape(dy, [-1, d]);
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) {
    return tf.unsortedSegmentSum(flatDy, flatIds as tf.Tensor1D, rows);
  }
  const idValues = flatIds.dataSync();
  const dyValues = flatDy.dataSync();
  const out = new Float32Array(rows * d);
  for (let i = 0; i < idValues.length; i++) {
    const row = idValues[i]! * d;
    const src = i * d;
    for (let j = 0; j < d; j++) out[row + j]! += dyValues[src + j]!;
  }
  return tf.tensor2d(out, [rows, d]);
}

export interface TokenEmbeddingArgs extends LayerArgs {
  vocabSize: number;
  dModel: number;
  /** Truncated-normal std (±2σ). Default 0.02. */
  initStd?: number;
  /** Seed of the table's init; unseeded if absent. */
  seed?: number;
}

/** ids [B, T] → [embedded [B, T, d], table [V, d]]. The table output feeds a TiedLMHead. */
export class TokenEmbedding extends layers.Layer implements HasFlopOps {
  static className = 'TokenEmbedding';
  readonly vocabSize: number;
  readonly dModel: number;
  readonly initStd: number;
  readonly seed: number | undefined;
  private table: LayerVariable | null = null;

  constructor(args: TokenEmbeddingArgs) {
    super(args);
    for (const [k, v] of [['vocabSize', args.vocabSize], ['dModel', args.dModel]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`TokenEmbedding '${this.name}': ${k} must be a positive integer, got ${v}`);
    }
    this.vocabSize = args.vocabSize;
    this.dModel = args.dModel;
    this.initStd = args.initStd ?? 0.02;
    this.seed = args.seed ?? undefined;
  }

  override build(): void {
    this.table = this.addWeight('embeddings', [this.vocabSize, this.dModel], 'float32', truncatedNormal(this.initStd, this.seed));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const ids = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [[...ids, this.dModel], [this.vocabSize, this.dModel]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor[] {
    return tf.tidy(() => {
      const ids = Array.isArray(inputs) ? inputs[0]! : inputs;
      const table = this.table!.read() as tf.Tensor2D;
      const intIds = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
      return [embeddingLookup(table, intIds), tf.clone(table)];
    });
  }

  /** A lookup costs no FLOPs; the table is counted as a parameter by the caller. */
  flopOps(_context: FlopOpContext): PlanOp[] {
    return [];
  }

  override getConfig(): serialization.ConfigDict {
    return { vocabSize: this.vocabSize, dModel: this.dModel, initStd: this.initStd, seed: this.seed ?? null, ...super.getConfig() };
  }
}
serialization.registerClass(TokenEmbedding);

/** [hidden [B, T, d], table [V, d]] → logits [B, T, V] = hidden · tableᵀ, no bias (docs/recipes.md#gpt-3-small-wikitext-103). */
export class TiedLMHead extends layers.Layer implements HasFlopOps {
  static className = 'TiedLMHead';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [h, table] = inputShape as Shape[];
    if (h === undefined || table === undefined) throw new Error(`TiedLMHead '${this.name}' takes [hidden, embedding table]`);
    return [...h.slice(0, -1), table[0]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error(`TiedLMHead '${this.name}' takes [hidden, embedding table]`);
      const [h, table] = inputs as [tf.Tensor, tf.Tensor2D];
      const d = h.shape[h.shape.length - 1]!;
      const logits = tf.matMul(tf.reshape(h, [-1, d]) as tf.Tensor2D, table, false, true);
      return tf.reshape(logits, [...h.shape.slice(0, -1), table.shape[0]]);
    });
  }

  /** The head as a dense, bias-free linear whose weight is the embedding table (counted once, there). */
  flopOps(context: FlopOpContext): PlanOp[] {
    const out = context.outputShapes[0]!;
    const h = context.inputShapes[0]!;
    return [
      {
        kind: 'linear',
        name: this.name,
        inFeatures: h[h.length - 1]!,
        outFeatures: out[out.length - 1]!,
        rows: out.slice(0, -1).reduce((a, b) => a * b, 1),
        bias: false,
        masked: false,
        density: 1,
        maskable: false,
        role: 'lm-head',
        // The weight is the TokenEmbedding's table, already counted there.
        tied: true,
      },
    ];
  }
}
serialization.registerClass(TiedLMHead);

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Rows of the table (context length, or patches + class token). */
  length: number;
  dModel: number;
  /** Truncated-normal std (±2σ). Default 0.02. */
  initStd?: number;
  /** Seed of the table's init; unseeded if absent. */
  seed?: number;
}

/** x [B, T, d] → x + table[0:T] (learned absolute positions). */
export class PositionEmbedding extends layers.Layer implements HasFlopOps {
  static className = 'PositionEmbedding';
  readonly length: number;
  readonly dModel: number;
  readonly initStd: number;
  readonly seed: number | undefined;
  private table: LayerVariable | null = null;

  constructor(args: PositionEmbeddingArgs) {
    super(args);
    if (!Number.isInteger(args.length) || args.length <= 0) throw new RangeError(`PositionEmbedding '${this.name}': length must be a positive integer, got ${args.length}`);
    this.length = args.length;
    this.dModel = args.dModel;
    this.initStd = args.initStd ?? 0.02;
    this.seed = args.seed ?? undefined;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const t = shape[1];
    if (t != null && t > this.length) {
      throw new Error(`PositionEmbedding '${this.name}': sequence length ${t} exceeds the ${this.length} learned positions; use a shorter input`);
    }
    if (shape[2] !== this.dModel) throw new Error(`PositionEmbedding '${this.name}': input width ${shape[2]} != dModel ${this.dModel}`);
    this.table = this.addWeight('embeddings', [this.length, this.dModel], 'float32', truncatedNormal(this.initStd, this.seed));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return ((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape).slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const t = x.shape[1]!;
      if (t > this.length) throw new Error(`PositionEmbedding '${this.name}': sequence length ${t} exceeds the ${this.length} learned positions`);
      const table = this.table!.read();
      const rows = t === this.length ? table : tf.slice(table, [0, 0], [t, this.dModel]);
      return tf.add(x, rows);
    });
  }

  /** The positional add is a functional add in the reference code: no counted FLOPs. */
  flopOps(_context: FlopOpContext): PlanOp[] {
    return [];
  }

  override getConfig(): serialization.ConfigDict {
    return { length: this.length, dModel: this.dModel, initStd: this.initStd, seed: this.seed ?? null, ...super.getConfig() };
  }
}
serialization.registerClass(PositionEmbedding);
