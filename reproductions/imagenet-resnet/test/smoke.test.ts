// The smoke preset end to end on a TFRecord shard written by the test (JPEG decode in workers, training, results).
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { exportedModelInfo } from '@sparse-ift/core';
import { getExperiment, type RunRecord } from '@sparse-ift/reproduce';
import { evaluate } from '@sparse-ift/train';
import { imageNetTrainable, loadImageNet, resolveConfig, type ImageNetRow } from '../src/index.js';
import { writeImageNetFixture } from './fixtures.js';

describe('imagenet-resnet smoke presets', () => {
  it('streams the shards (paper pipeline), trains ResNet-18 dense / SW / SP at s = 0.5 and writes the result files', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-imagenet-out-'));
    const context = { preset: 'smoke', seeds: 1, outDir: out, dataDir: writeImageNetFixture(8, 4), backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} };
    const outcome = await getExperiment('imagenet-resnet')!.run({ ...context, resume: false, force: false });
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord<ImageNetRow>[]; data: { trainImages: number; validationImages: number } };
    expect(results.data).toMatchObject({ trainImages: 8, streamed: true });
    expect(results.runs.map((r) => `${r.model}/${r.family}/${r.sparsity}`)).toEqual(['resnet18/dense/0', 'resnet18/sparse-wide/0.5', 'resnet18/sparse-parallel/0.5']);
    for (const run of results.runs) {
      expect(run.steps).toBe(2);
      expect(run.history).toHaveLength(1);
      expect(run.test['accuracy']).toBeGreaterThanOrEqual(0);
      expect(run.flopRatio).toBeGreaterThan(0.8);
      expect(run.flopRatio).toBeLessThan(1.2);
      if (run.family !== 'dense') expect(run.realisedDensity).toBeCloseTo(1 - run.maskSparsity, 2);
    }
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('70.9 [OR] [EP]');
    expect(md).toContain('NOT FOUND');
    expect(md).toContain('streamed');
    // One accuracy-vs-sparsity plot per model with a dense run, linked from results.md.
    const svg = readFileSync(outcome.files['plot-resnet18']!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Sparse Wide');
    expect(svg).toContain('Sparse Parallel');
    expect(md).toContain('](accuracy-vs-sparsity-resnet18.svg)');
  });

  it('smoke-memory: decodes a subset into memory (the short preset path) and trains the same rows', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-imagenet-mem-'));
    const dataDir = writeImageNetFixture(8, 4);
    const outcome = await getExperiment('imagenet-resnet')!.run({ preset: 'smoke-memory', seeds: 1, outDir: out, dataDir, resume: false, force: false, backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} });
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord<ImageNetRow>[]; data: { trainImages: number; validationImages: number } };
    expect(results.data).toMatchObject({ trainImages: 8, validationImages: 4, streamed: false });
    expect(results.runs).toHaveLength(3);
    for (const run of results.runs) expect(run.steps).toBe(2);

    // Every run's exported ResNet loads with tf.loadLayersModel and, behind the same normalisation, scores the
    // validation loss the trainer recorded, to the last bit.
    const config = resolveConfig('smoke-memory');
    const data = await loadImageNet(config, dataDir, () => {});
    if (data.kind !== 'memory') throw new Error('smoke-memory decodes into memory');
    for (const run of results.runs) {
      const loaded = await tfl.loadLayersModel(`file://${join(out, run.exportDir!, 'model.json')}`);
      expect((await evaluate(imageNetTrainable(loaded, run.seed, 'raw'), data.test)).loss, run.id).toBe(run.test.loss);
      expect(exportedModelInfo(loaded)?.dataset).toBe('imagenet');
      loaded.dispose();
    }
  });
});
