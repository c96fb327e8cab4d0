import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dropout } from '@sparse-ift/core';
import { NonFiniteLossError, readCheckpoint, train, writeCheckpointAtomic, type TrainConfig } from '../src/index.js';
import { syntheticData, tinyModel } from './helpers.js';

const data = { train: syntheticData(200, 12, 3, 1), test: syntheticData(90, 12, 3, 2) };

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    seed: 3,
    epochs: 3,
    batchSize: 32, // 7 steps per epoch, the last one partial
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' },
    schedule: { kind: 'multistep', milestones: [1], gamma: 0.2, lateByOne: true },
    // ΔT = 3 so several RigL updates happen in 21 steps (end = int(0.75·21) = 15).
    mask: { method: 'rigl', frequency: 3 },
    ...overrides,
  };
}

function weights(model: ReturnType<typeof tinyModel>): number[][] {
  // + 0 turns −0 into +0: a masked weight is 0 × its init, whose sign does not matter.
  return model.params.map((p) => Array.from(p.variable.dataSync(), (v) => v + 0));
}

describe('train', () => {
  it('learns the synthetic task and keeps masked weights at zero', async () => {
    const model = tinyModel();
    const result = await train(model, data, config());
    expect(result.history).toHaveLength(3);
    expect(result.test?.accuracy).toBeGreaterThan(0.8); // 3 classes: chance is 1/3
    expect(result.epochsAtChance).toEqual([]);
    const w = model.maskedParams[0]!.weight.dataSync();
    const m = model.maskedParams[0]!.mask.dataSync();
    let ones = 0;
    for (let i = 0; i < m.length; i++) {
      if (m[i] === 0) expect(w[i]! + 0).toBe(0);
      ones += m[i]!;
    }
    // RigL brings the count to exactly (1 − s)·numel at its first update (docs/sparse-training.md#rigl).
    expect(ones).toBe(0.5 * 12 * 16);
    model.dispose();
  });

  it('resume after an interruption gives exactly the weights and metrics of an uninterrupted run', async () => {
    for (const method of ['rigl', 'set'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'sift-resume-'));
      const reference = tinyModel();
      const full = await train(reference, data, config({ mask: { method, frequency: 3 } }));

      const checkpointFile = join(dir, 'ckpt.bin');
      // Stop mid-epoch 2 (step 10 of 21), after a mask update (step 9), then resume in a fresh model.
      const first = tinyModel();
      const part = await train(first, data, config({ mask: { method, frequency: 3 }, checkpointFile, stopAfterStep: 10 }));
      expect(part.stoppedEarly).toBe(true);
      expect(part.steps).toBe(10);
      first.dispose();

      const second = tinyModel(12, 16, 3, 0.5, 123); // a fresh process's different init: resume overwrites it all
      const resumed = await train(second, data, config({ mask: { method, frequency: 3 }, checkpointFile, resume: true }));
      expect(resumed.resumedFromStep).toBe(10);
      expect(resumed.steps).toBe(full.steps);
      expect(weights(second)).toEqual(weights(reference));
      expect(Array.from(second.maskedParams[0]!.mask.dataSync())).toEqual(Array.from(reference.maskedParams[0]!.mask.dataSync()));
      expect(resumed.history).toEqual(full.history);
      reference.dispose();
      second.dispose();
    }
  });

  it('stops on a NaN loss naming the step, and keeps the last good checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-nan-'));
    const checkpointFile = join(dir, 'ckpt.bin');
    const model = tinyModel();
    model.poisonFromCall = 6; // the 6th training step produces NaN
    const run = train(model, data, config({ checkpointFile, checkpointEvery: 2 }));
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(run).rejects.toThrow(/loss is NaN at step 6.*last good checkpoint is kept at/);
    const ckpt = readCheckpoint<{ globalStep: number }>(checkpointFile);
    expect(ckpt.meta.globalStep).toBe(4);
    for (const t of ckpt.tensors.values()) for (const v of t.data) expect(Number.isFinite(v)).toBe(true);
    model.dispose();
  });

  it('a NaN found by a later batched loss read stops at its step, with the weights of the step before it', async () => {
    for (const method of ['static', 'rigl'] as const) {
      const poisoned = tinyModel();
      const logits = poisoned.logits.bind(poisoned);
      let calls = 0;
      // Only the 6th step is NaN: the steps after it are finite, and must not be applied either.
      poisoned.logits = (x, training, ctx) => (training && ++calls === 6 ? (tf.mul(logits(x, training, ctx), NaN) as tf.Tensor2D) : logits(x, training, ctx));
      const run = train(poisoned, data, config({ mask: { method, frequency: 3 }, lossReadEvery: 100, epochs: 3 }));
      await expect(run).rejects.toThrow(/loss is NaN at step 6/);
      const reference = tinyModel();
      await train(reference, data, config({ mask: { method, frequency: 3 }, stopAfterStep: 5 }));
      expect(weights(poisoned), method).toEqual(weights(reference));
      poisoned.dispose();
      reference.dispose();
    }
  });

  it('dropout masks follow (seed, step, micro-batch): reruns and resumed runs agree, another seed differs', async () => {
    const withDropout = () => {
      const model = tinyModel();
      const logits = model.logits.bind(model);
      model.logits = (x, training, ctx) => (training ? dropout(logits(x, training, ctx), 0.3, 'logits_drop') : logits(x, training, ctx));
      return model;
    };
    const run = async (overrides: Partial<TrainConfig>) => {
      const model = withDropout();
      await train(model, data, config({ mask: { method: 'static' }, microBatchSize: 16, ...overrides }));
      const w = weights(model);
      model.dispose();
      return w;
    };
    const a = await run({});
    expect(await run({})).toEqual(a);
    expect(await run({ seed: 4 })).not.toEqual(a);
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-dropout-')), 'ckpt.bin');
    const first = withDropout();
    await train(first, data, config({ mask: { method: 'static' }, microBatchSize: 16, checkpointFile, stopAfterStep: 10 }));
    first.dispose();
    const second = withDropout();
    await train(second, data, config({ mask: { method: 'static' }, microBatchSize: 16, checkpointFile, resume: true }));
    expect(weights(second)).toEqual(a);
    second.dispose();
  });

  it('a full wasm heap (a WebAssembly trap in a step) names the limit and what to do, and keeps the checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-oom-'));
    const checkpointFile = join(dir, 'ckpt.bin');
    const model = tinyModel();
    const logits = model.logits.bind(model);
    let calls = 0;
    model.logits = (x, training, ctx) => {
      if (training && ++calls === 5) {
        // What V8 throws when wasm code writes past its memory (tfjs-backend-wasm's unchecked malloc).
        const trap = new Error('memory access out of bounds');
        trap.name = 'RuntimeError';
        throw trap;
      }
      return logits(x, training, ctx);
    };
    const run = train(model, data, config({ checkpointFile, checkpointEvery: 2 }));
    await expect(run).rejects.toThrow(/step 5 ran out of wasm memory.*at most 4 GB.*Lower the batch size.*ckpt\.bin, is untouched/);
    expect(readCheckpoint<{ globalStep: number }>(checkpointFile).meta.globalStep).toBe(4);
    model.dispose();
  });

  it('refuses to resume from a checkpoint written with another configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-fp-'));
    const checkpointFile = join(dir, 'ckpt.bin');
    const model = tinyModel();
    await train(model, data, config({ epochs: 1, checkpointFile }));
    await expect(train(model, data, config({ epochs: 1, seed: 4, checkpointFile, resume: true }))).rejects.toThrow(/different configuration/);
    model.dispose();
  });

  it('refuses impossible checkpoint metadata and damaged checkpoints on resume, naming the file and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-meta-'));
    const checkpointFile = join(dir, 'ckpt.bin');
    const model = tinyModel();
    await train(model, data, config({ checkpointFile, stopAfterStep: 9 }));
    const good = readCheckpoint<Record<string, unknown>>(checkpointFile);
    expect(good.meta['globalStep']).toBe(9);
    const edits: [string, Record<string, unknown>, RegExp][] = [
      ['a global step of 1e9', { globalStep: 1e9 }, /globalStep 1000000000 is not epoch × 7 \+ stepInEpoch = 9 within the run's 21 steps/],
      ['an epoch past the run', { epoch: 7 }, /epoch 7 is not in \[0, 3\]/],
      ['a step past the epoch', { stepInEpoch: 7, globalStep: 14 }, /stepInEpoch 7 is not in \[0, 7\)/],
      ['a negative step', { stepInEpoch: -5 }, /stepInEpoch -5 is not in/],
      ['a history that is not a list', { history: 'none' }, /its history of evaluations is not a list the run can have written/],
      ['a NaN running loss', { trainLossSum: null }, /running training loss is not a finite sum/],
    ];
    for (const [what, edit, error] of edits) {
      // Written through the checkpoint writer, so checksums match: only the metadata is wrong.
      writeCheckpointAtomic(checkpointFile, { meta: { ...good.meta, ...edit }, tensors: good.tensors });
      await expect(train(model, data, config({ checkpointFile, resume: true })), what).rejects.toThrow(
        new RegExp(`checkpoint ${checkpointFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has impossible metadata: .*${error.source}.*delete it \\(that run then starts over\\) or pass --force`),
      );
    }
    // One flipped bit in a weight: refused before anything is restored.
    writeCheckpointAtomic(checkpointFile, good);
    const bytes = readFileSync(checkpointFile);
    bytes[20]! ^= 1;
    writeFileSync(checkpointFile, bytes);
    await expect(train(model, data, config({ checkpointFile, resume: true }))).rejects.toThrow(/is damaged: tensor 'param\/fc1\/kernel' fails its checksum/);
    model.dispose();
  });

  it('a run given in steps that ended part-way through an epoch resumes from its final checkpoint', async () => {
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-steps-')), 'ckpt.bin');
    const model = tinyModel();
    const first = await train(model, data, config({ epochs: undefined, steps: 10, checkpointFile }));
    const again = await train(model, data, config({ epochs: undefined, steps: 10, checkpointFile, resume: true }));
    expect([again.resumedFromStep, again.steps, again.test?.accuracy]).toEqual([10, 10, first.test?.accuracy]);
    model.dispose();
  });

  it('refuses an empty test set instead of reporting NaN', async () => {
    const model = tinyModel();
    const empty = { images: new Float32Array(0), labels: new Int32Array(0), count: 0, sampleShape: [12] };
    await expect(train(model, { train: data.train, test: empty }, config({ epochs: 1 }))).rejects.toThrow('the evaluation set has 0 samples; check the test data (sift data verify)');
    await expect(train(model, { train: empty, test: data.test }, config({ epochs: 1 }))).rejects.toThrow(/an epoch of the training data has 0 batches/);
    model.dispose();
  });

  it('says loudly when the training loss stays at chance (ln C) for a whole epoch', async () => {
    const model = tinyModel();
    // A dead network: every logit 0, so every sample's loss is exactly ln 3.
    const dead = { ...model, logits: (x: tf.Tensor, training: boolean) => tf.mul(model.logits(x, training), 0) as tf.Tensor2D };
    const lines: string[] = [];
    const result = await train(dead, data, config({ epochs: 2, log: (l) => lines.push(l) }));
    expect(result.epochsAtChance).toEqual([0, 1]);
    expect(result.history.map((h) => h.atChance)).toEqual([true, true]);
    expect(lines.filter((l) => l.startsWith('WARNING'))).toEqual([1, 2].map((e) => expect.stringContaining(`train epoch ${e}, step ${7 * e}: the training loss stayed at chance since the last evaluation (1.0986; chance 1.0986)`)));
    model.dispose();
  });

  it('an LR warm-up scales the rate by (step + 1) / warmupSteps, and is part of the checkpoint fingerprint', async () => {
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-warm-')), 'ckpt.bin');
    const model = tinyModel();
    const constant = config({ epochs: 1, schedule: { kind: 'constant' }, warmupSteps: 10, checkpointFile });
    const result = await train(model, data, constant);
    // 7 steps in the epoch: the last (step 6) runs at 0.05 × 7/10.
    expect(result.history[0]!.lr).toBeCloseTo(0.035, 12);
    expect((await train(model, data, { ...constant, warmupSteps: 0, checkpointFile: undefined })).history[0]!.lr).toBe(0.05);
    await expect(train(model, data, { ...constant, warmupSteps: 5, resume: true })).rejects.toThrow(/different configuration/);
    model.dispose();
  });

  it('writes TensorBoard events next to training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-tb-'));
    const model = tinyModel();
    await train(model, data, config({ epochs: 1, tensorboardDir: dir }));
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).size).toBeGreaterThan(50);
    expect(readFileSync(join(dir, files[0]!)).includes(Buffer.from('test/accuracy'))).toBe(true);
    model.dispose();
  });
});
