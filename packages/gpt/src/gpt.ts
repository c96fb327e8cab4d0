/**
 * The GPT decoder (docs/recipes.md#gpt-3-small-wikitext-103): token + learned position embeddings, dropout, `layers` pre-LN
 * blocks with causal attention, a final LayerNorm and the LM head tied to the token embedding.
 * `buildGpt` allocates a tf.js model; `gptOpList` describes the same forward pass as FLOP ops
 * without allocating weights (GPT-3 Small has 125 M parameters).
 */
import * as tf from '@tensorflow/tfjs-core';
import { input, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { BuildSeeds, Dropout, LayerNorm, tensorSeed, type ModelOpList, type PlanOp } from '@sparse-ift/core';
import {
  PositionEmbedding,
  TiedLMHead,
  TokenEmbedding,
  builtModelName,
  checkFamilyAndSparsity,
  transformerBlock,
  transformerBlockOps,
  transformerBlockSpec,
  type TransformerBlockSpec,
  type TransformerBuildOptions,
} from '@sparse-ift/transformer';
import type { GptConfig } from './config.js';

export interface GptBuildOptions extends TransformerBuildOptions {
  /** Tokens per sample the model is built for (default: the context length). */
  sequenceLength?: number;
  /**
   * Seed of the masks and the weights (docs/seeding.md): the layers in build order are wte 0, wpe 1,
   * block b at 2 + b; a block splits its seeds per linear and per tensor. Unseeded if absent.
   */
  seed?: number;
}

function checkOptions(c: GptConfig, o: GptBuildOptions): number {
  checkFamilyAndSparsity(o.family, o.sparsity);
  const t = o.sequenceLength ?? c.contextLength;
  if (!Number.isInteger(t) || t <= 0 || t > c.contextLength) {
    throw new RangeError(`sequenceLength must be an integer in [1, ${c.contextLength}] for ${c.name}, got ${t}`);
  }
  return t;
}

function blockSpec(c: GptConfig, o: GptBuildOptions): TransformerBlockSpec {
  return transformerBlockSpec(c, o, { causal: true, outputInitStd: c.outputInitStd });
}

/** ids [B, T] (int32) → logits [B, T, vocab]. */
export function buildGpt(c: GptConfig, o: GptBuildOptions): LayersModel {
  const t = checkOptions(c, o);
  const spec = blockSpec(c, o);
  const d = spec.dModel;
  const ids = input({ shape: [t], dtype: 'int32', name: 'token_ids' });
  const seeds = new BuildSeeds(o.seed);
  const tableSeed = () => tensorSeed(seeds.next().weightSeed, 0);
  const [tokens, table] = new TokenEmbedding({ name: 'wte', vocabSize: c.vocabSize, dModel: d, initStd: c.initStd, seed: tableSeed() }).apply(ids) as SymbolicTensor[];
  let x = new PositionEmbedding({ name: 'wpe', length: c.contextLength, dModel: d, initStd: c.initStd, seed: tableSeed() }).apply(tokens!) as SymbolicTensor;
  if (c.dropout > 0) x = new Dropout({ name: 'embedding_drop', rate: c.dropout }).apply(x) as SymbolicTensor;
  for (let i = 0; i < c.layers; i++) {
    x = transformerBlock(x, { ...spec, ...seeds.next() }, `h${i}`);
  }
  x = new LayerNorm({ name: 'ln_f', epsilon: c.layerNormEpsilon }).apply(x) as SymbolicTensor;
  const logits = new TiedLMHead({ name: 'lm_head' }).apply([x, table!]) as SymbolicTensor;
  return model({ inputs: ids, outputs: logits, name: builtModelName(c.name, o.family, o.sparsity) });
}

/**
 * The forward pass as FLOP ops per sample (sequence), plus the embedding tables as parameters.
 * The LM head is a linear whose weight is the token embedding (`tiedWeightOps`: not counted twice).
 */
export function gptOpList(c: GptConfig, o: GptBuildOptions): ModelOpList {
  const t = checkOptions(c, o);
  const spec = blockSpec(c, o);
  const d = spec.dModel;
  const ops: PlanOp[] = [];
  for (let i = 0; i < c.layers; i++) ops.push(...transformerBlockOps(spec, `h${i}`, t));
  ops.push({ kind: 'layernorm', name: 'ln_f', rows: t, size: d, affine: true, role: 'ln' });
  ops.push({
    kind: 'linear',
    name: 'lm_head',
    inFeatures: d,
    outFeatures: c.vocabSize,
    rows: t,
    bias: false,
    masked: false,
    density: 1,
    maskable: false,
    role: 'lm-head',
  });
  return {
    ops,
    extraParams: [
      { name: 'wte/embeddings', role: 'token-embedding', shape: [c.vocabSize, d] },
      { name: 'wpe/embeddings', role: 'position-embedding', shape: [c.contextLength, d] },
    ],
    tiedWeightOps: ['lm_head'],
  };
}

/**
 * Mean next-token cross-entropy: logits [B, T, V] from tokens 0..T−1, targets [B, T] the tokens
 * 1..T (the caller shifts). Built from logSoftmax and oneHot, which train on cpu and wasm.
 */
export function languageModelLoss(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const v = logits.shape[logits.shape.length - 1]!;
    const flat = tf.reshape(logits, [-1, v]);
    const oneHot = tf.oneHot(tf.reshape(tf.cast(targets, 'int32'), [-1]) as tf.Tensor1D, v);
    const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(flat, -1)), -1));
    return tf.mean(nll) as tf.Scalar;
  });
}
