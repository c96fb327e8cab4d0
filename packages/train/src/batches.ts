/**
 * What the trainer reads: a labelled set held in memory, or a source read batch by batch (streamed
 * shards, token blocks), as batches of rows; and the micro-batches a step's batch is cut into.
 */
import { epochPermutation } from './data-order.js';

/**
 * One batch of N rows: inputs (shape [N, …]) and their integer targets, one per row for
 * classification, one per position for language modelling.
 */
export interface Batch {
  /** Row-major, `shape`: float32 images, or int32 token ids. */
  inputs: Float32Array | Int32Array;
  /** Row-major, N × (targets per row): labels, or the next token of every position. */
  targets: Int32Array;
  /** Shape of `inputs`; shape[0] is the number of samples N. */
  shape: number[];
}

/** Images (N × sampleShape, float32) and integer labels, held in memory. */
export interface LabelledData {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** Shape of one sample, e.g. [784] for an MLP or [28, 28, 1] for a CNN. */
  sampleShape: number[];
}

/** A data set read batch by batch instead of held in memory. */
export interface BatchStream {
  /** The batches of an epoch; evaluation reads all of epoch 0's. */
  batches(epoch: number): AsyncIterable<Batch> | Iterable<Batch>;
}

/**
 * A training set read batch by batch, one batch per optimiser step. `batches(epoch)` must give the same
 * batches for the same epoch in every process: a resumed run skips the ones it trained on before the
 * interruption.
 */
export interface BatchSource extends BatchStream {
  /** Samples per epoch (part of a checkpoint's fingerprint). */
  count: number;
  /** Optimiser steps per epoch: training ends an epoch after this many batches. Evaluation reads all. */
  batchesPerEpoch: number;
  /** Whatever else decides the batches (image size, augmentation, context), so a checkpoint is not resumed with other data. */
  fingerprint?: string;
}

export function isBatchStream<S extends BatchStream>(data: LabelledData | S): data is S {
  return typeof (data as Partial<S>).batches === 'function';
}

/** Rows `order[from..to)` of an in-memory set as one batch. */
function gatherRows(data: LabelledData, order: Int32Array, from: number, to: number): Batch {
  const size = data.sampleShape.reduce((a, b) => a * b, 1);
  const n = to - from;
  const inputs = new Float32Array(n * size);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[from + i]!;
    inputs.set(data.images.subarray(src * size, (src + 1) * size), i * size);
    targets[i] = data.labels[src]!;
  }
  return { inputs, targets, shape: [n, ...data.sampleShape] };
}

/**
 * The training batches of one epoch from step `skip` on: the (seed, epoch) permutation of an in-memory
 * set (the last partial batch kept, as PyTorch), or the source's batches, `stepsPerEpoch` of them.
 */
export async function* epochBatches(data: LabelledData | BatchSource, seed: number, epoch: number, batchSize: number, stepsPerEpoch: number, skip: number): AsyncGenerator<Batch> {
  if (!isBatchStream(data)) {
    const order = epochPermutation(data.count, seed, epoch);
    for (let step = skip; step < stepsPerEpoch; step++) yield gatherRows(data, order, step * batchSize, Math.min(data.count, (step + 1) * batchSize));
    return;
  }
  let step = 0;
  for await (const batch of data.batches(epoch)) {
    if (step >= stepsPerEpoch) return;
    if (step++ < skip) continue; // same (epoch) → same batches: skip those trained on before a resume
    yield batch;
  }
  if (step < stepsPerEpoch) {
    throw new Error(`the training batch source gave ${step} batches in epoch ${epoch + 1}, fewer than its batchesPerEpoch (${stepsPerEpoch}); fix batchesPerEpoch or the data`);
  }
}

/** Every batch of a held-out set, in order: an in-memory set in batches of `batchSize`, or a stream's epoch 0. */
export async function* heldOutBatches(data: LabelledData | BatchStream, batchSize: number): AsyncGenerator<Batch> {
  if (isBatchStream(data)) {
    yield* data.batches(0);
    return;
  }
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  for (let from = 0; from < data.count; from += batchSize) yield gatherRows(data, order, from, Math.min(data.count, from + batchSize));
}

/** `batch` cut into consecutive micro-batches of at most `rows` rows (views, no copies). */
export function microBatches(batch: Batch, rows: number): Batch[] {
  const n = batch.shape[0]!;
  if (rows >= n) return [batch];
  const inputsPerRow = batch.inputs.length / n;
  const targetsPerRow = batch.targets.length / n;
  const parts: Batch[] = [];
  for (let from = 0; from < n; from += rows) {
    const to = Math.min(n, from + rows);
    parts.push({
      inputs: batch.inputs.subarray(from * inputsPerRow, to * inputsPerRow),
      targets: batch.targets.subarray(from * targetsPerRow, to * targetsPerRow),
      shape: [to - from, ...batch.shape.slice(1)],
    });
  }
  return parts;
}
