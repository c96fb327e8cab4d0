/**
 * Training losses kept on the device and read in batches, so no step waits for a read.
 *
 * The trainer adds each step's loss tensor; every `readEvery` steps it calls `collect()`, which starts
 * one read of the steps added since (one stacked tensor, `await data()`: asynchronous) and returns the
 * batch whose read it started the time before, by then usually done: reads overlap training. `drain()`
 * waits for everything (before an evaluation, a checkpoint, the end). The steps' updates are gated on
 * the device (core's FiniteGuard), so a non-finite loss found late has changed nothing.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface StepLoss {
  /** Optimiser steps done after this one (1-based). */
  step: number;
  loss: number;
  /** Samples in the step's batch. */
  samples: number;
  /** The learning rate the step used. */
  lr: number;
}

interface Pending {
  step: number;
  loss: tf.Scalar;
  samples: number;
  lr: number;
}

export class LossLog {
  private pending: Pending[] = [];
  private inFlight: Promise<StepLoss[]> | undefined;

  add(step: number, loss: tf.Scalar, samples: number, lr: number): void {
    this.pending.push({ step, loss, samples, lr });
  }

  /** Steps added but not yet returned by collect() or drain(). */
  get size(): number {
    return this.pending.length;
  }

  /** Starts reading the pending losses; returns the batch whose read the previous call started. */
  async collect(): Promise<StepLoss[]> {
    const previous = this.inFlight;
    this.inFlight = this.read(this.pending.splice(0));
    return previous ? await previous : [];
  }

  /** Every loss added so far, in step order. */
  async drain(): Promise<StepLoss[]> {
    const previous = this.inFlight ? await this.inFlight : [];
    this.inFlight = undefined;
    return [...previous, ...(await this.read(this.pending.splice(0)))];
  }

  /** Frees the losses not read (after an error). */
  dispose(): void {
    for (const p of this.pending.splice(0)) p.loss.dispose();
    this.inFlight?.catch(() => {});
    this.inFlight = undefined;
  }

  private async read(batch: Pending[]): Promise<StepLoss[]> {
    if (batch.length === 0) return [];
    const stacked = tf.stack(batch.map((p) => p.loss));
    for (const p of batch) p.loss.dispose();
    try {
      const values = await stacked.data();
      return batch.map((p, i) => ({ step: p.step, loss: values[i]!, samples: p.samples, lr: p.lr }));
    } finally {
      stacked.dispose();
    }
  }
}
