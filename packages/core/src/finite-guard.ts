/**
 * Training on a device without reading the loss every step, and still never training on a NaN/Inf one.
 *
 * `sparseTrainStep` reads each step's loss to the host and refuses a non-finite one before applying it:
 * on a GPU that read waits for the whole step, every step. With a guard (`sparseTrainStepOnDevice`) the
 * check stays on the device: a step is applied only while every loss so far was finite, so from the
 * first non-finite loss on, no weight, optimiser slot or mask changes. The caller reads the losses later,
 * in batches (the trainer at its log intervals, before evaluations and checkpoints), finds the first
 * non-finite one and stops there: the weights are then exactly those after the last finite step, as
 * with the synchronous check; only the steps computed in between are wasted. A mask update reads the
 * guard first ({@link FiniteGuard.assertHealthy}), so masks are never ranked from a non-finite step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonFiniteLossError } from './train-step.js';

export class FiniteGuard {
  /** 1 while every admitted loss was finite, 0 from the first that was not (it stays 0). */
  private readonly healthy = tf.variable(tf.scalar(1), false);

  /** Records `loss` and returns whether to apply its step (a bool scalar on the loss's backend). */
  admit(loss: tf.Scalar): tf.Scalar {
    return tf.tidy(() => {
      const ok = tf.logicalAnd(tf.greater(this.healthy, 0), tf.isFinite(loss)) as tf.Scalar;
      this.healthy.assign(tf.cast(ok, 'float32'));
      return ok;
    });
  }

  /** Whether every admitted loss was finite (one asynchronous read). */
  async isHealthy(): Promise<boolean> {
    return (await this.healthy.data())[0] === 1;
  }

  /**
   * Throws NonFiniteLossError when a non-finite loss was admitted: with the value of `current` (the
   * step's own loss) when that is the non-finite one, else NaN (the caller's loss log knows the earlier
   * step). A synchronous read: for the rare points that must not go on without it (mask updates).
   */
  assertHealthy(current?: tf.Scalar): void {
    if (this.healthy.dataSync()[0] === 1) return;
    const value = current?.dataSync()[0];
    throw new NonFiniteLossError(value !== undefined && !Number.isFinite(value) ? value : Number.NaN);
  }

  /** Trust the device again (after the caller restored weights from a checkpoint). */
  reset(): void {
    tf.tidy(() => this.healthy.assign(tf.scalar(1)));
  }

  dispose(): void {
    this.healthy.dispose();
  }
}
