/**
 * What training a transformer costs in memory per sequence, from its op list: the activations tf.js keeps
 * from the forward pass until the backward (the outputs the gradients need, and the layers' outputs a
 * functional model holds), so a trainer can choose micro-batches that fit a device.
 *
 * The coefficients are floats kept per element of each kind of op output, fitted to `tf.memory()` at the
 * end of the forward inside `tf.variableGrads` on the cpu backend (GPTs of 2–4 layers, widths 32–256,
 * sequence 8–256, vocabulary 97–1000, every family, with and without dropout: within ±8 %;
 * test/memory.test.ts measures two of them again). Backends with fused layer norm / GELU kernels (wasm, native,
 * webgpu) keep less, so the estimate errs high there. GPT-3 Small at 1024 tokens: ≈ 7.5 GB per sequence.
 */
import type { PlanOp } from '@sparse-ift/core';

/** Floats kept per output element, by op kind (see above), and per token (ids, positions, the loss's one-hot). */
export const KEPT_FLOATS_PER_OUTPUT = {
  linear: 5.2,
  layernorm: 4.3,
  activation: 6.6,
  /** Attention probabilities (scores, softmax, dropout), per element of the H·T² softmax. */
  softmax: 6.1,
  /** The language-model head's logits, per element of T·V (logits, log-softmax, one-hot target, products). */
  lmHead: 8.5,
  token: 612,
} as const;

export interface SequenceMemory {
  /** Bytes kept per sequence for the backward pass. */
  bytesPerSequence: number;
  /** The largest single tensor per sequence, in bytes (attention probabilities H·T², or logits T·V). */
  largestTensorPerSequence: number;
}

/** The training memory of one sequence of `tokens` positions through the ops (a model's per-sample op list). */
export function trainingMemoryPerSequence(ops: readonly PlanOp[], tokens: number): SequenceMemory {
  const c = KEPT_FLOATS_PER_OUTPUT;
  let floats = c.token * tokens;
  let largest = 0;
  for (const op of ops) {
    let out = 0;
    if (op.kind === 'linear') {
      out = op.rows * op.outFeatures;
      floats += (op.role === 'lm-head' ? c.lmHead : c.linear) * out;
    } else if (op.kind === 'layernorm') {
      out = op.rows * op.size;
      floats += c.layernorm * out;
    } else if (op.kind === 'gelu' || op.kind === 'relu' || op.kind === 'relu6') {
      out = op.numel;
      floats += c.activation * out;
    } else if (op.kind === 'softmax') {
      out = op.numel;
      floats += c.softmax * out;
    }
    largest = Math.max(largest, 4 * out);
  }
  return { bytesPerSequence: 4 * floats, largestTensorPerSequence: largest };
}
