// The smoke preset end to end on real Fashion-MNIST: files written and parsable, accuracy above chance,
// every trained model exported and loadable with identical outputs.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { collectMaskedParams, exportedModelInfo, realisedDensity } from '@sparse-ift/core';
import { getExperiment, type RunRecord } from '@sparse-ift/reproduce';
import { evaluate, layersTrainable } from '@sparse-ift/train';
import { loadData, resolveConfig } from '../src/index.js';

describe('fashion-mnist smoke preset', () => {
  it('trains every row, writes results.json / results.md / the SVG plot, and beats chance', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-fmnist-'));
    const experiment = getExperiment('fashion-mnist')!;
    const outcome = await experiment.run({
      preset: 'smoke',
      seeds: 1,
      outDir: out,
      resume: false,
      force: false,
      backend: { ...backend },
      backendLine: describeBackend(backend),
      progress: false,
      log: () => {},
    });
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord[]; backend: { name: string } };
    // dense + 4 families with RigL + Sparse Wide static and SET, at s = 0.5, one seed.
    expect(results.runs).toHaveLength(7);
    expect(results.backend.name).toBe('wasm');
    for (const run of results.runs) {
      expect(run.test['accuracy']).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
      // Iso-FLOP: every family within a few percent of the dense model's forward FLOPs.
      expect(run.flopRatio).toBeGreaterThan(0.9);
      expect(run.flopRatio).toBeLessThan(1.1);
      if (run.family !== 'dense' && run.method !== 'static') {
        // RigL/SET make the mask counts exact at their first update (docs/sparse-training.md#rigl): density 1 − s.
        expect(run.realisedDensity).toBeCloseTo(1 - run.maskSparsity, 2);
      }
    }
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('| Sparse Parallel | 0.5 | rigl |');
    const svg = readFileSync(outcome.files['plot']!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['Sparse Wide', 'Sparse Doped', 'RigL', 'Static', 'SET', 'one seed: no spread measured']) expect(svg).toContain(label);
    expect(md).toContain('± n/a'); // one seed
    expect(md).not.toContain('± 0.00');

    // Every run's model, as the runner exported it, loads with tf.loadLayersModel and gives the trained
    // model's outputs: its test loss and accuracy are the ones the trainer recorded, to the last bit.
    const smoke = resolveConfig('smoke');
    const { test, stats } = await loadData(undefined, smoke);
    for (const run of results.runs) {
      const loaded = await tfl.loadLayersModel(`file://${join(out, run.exportDir!, 'model.json')}`);
      const metrics = await evaluate(layersTrainable(loaded, (x, training) => loaded.apply(x, { training }) as tf.Tensor2D), test);
      expect(metrics.loss, run.id).toBe(run.test.loss);
      expect(metrics['accuracy'], run.id).toBe(run.test['accuracy']);
      const masks = collectMaskedParams(loaded);
      expect(masks.length > 0, run.id).toBe(run.family !== 'dense');
      if (masks.length > 0) expect(realisedDensity(masks).overall, run.id).toBeCloseTo(run.realisedDensity, 12);
      expect(exportedModelInfo(loaded)).toMatchObject({ dataset: 'fashion-mnist', preprocess: { pool: 2, mean: stats.mean, std: stats.std }, run: { id: run.id, seed: 0 } });
      loaded.dispose();
    }

    // A second run into the same --out refuses to discard the checkpoints without --resume/--force …
    await expect(experiment.run({ ...baseContext(out, backend), resume: false, force: false })).rejects.toThrow(/--resume.*--force/);
    // … and with --resume reuses the finished runs and writes results beside the first ones.
    const again = await experiment.run({ ...baseContext(out, backend), resume: true, force: false });
    expect(again.files['results.json']).toBe(join(out, 'results-2.json'));
    expect(existsSync(join(out, 'results.json'))).toBe(true);
  });
});

function baseContext(out: string, backend: Awaited<ReturnType<typeof initBackend>>) {
  return { preset: 'smoke', seeds: 1, outDir: out, backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} };
}
