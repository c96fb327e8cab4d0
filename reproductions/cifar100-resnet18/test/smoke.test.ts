// The smoke preset end to end on CIFAR-100 binary files written by the test: every row trains, and
// results.json / results.md are written, parsable, and carry the paper's cells from docs/paper-results.md.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { exportedModelInfo } from '@sparse-ift/core';
import { getExperiment, type RowSummary, type RunRecord } from '@sparse-ift/reproduce';
import { evaluate } from '@sparse-ift/train';
import { cifarTrainable, loadCifarData, resolveConfig } from '../src/index.js';
import { writeCifarFixture } from './fixtures.js';

describe('cifar100-resnet18 smoke preset', () => {
  it('trains the 7 rows at s = 0.5 and writes the result files', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const data = writeCifarFixture(16, 8);
    const out = mkdtempSync(join(tmpdir(), 'sift-cifar-out-'));
    const experiment = getExperiment('cifar100-resnet18')!;
    const context = { preset: 'smoke', seeds: 1, outDir: out, dataDir: data, backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} };
    const outcome = await experiment.run({ ...context, resume: false, force: false });

    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord[]; rows: RowSummary[]; tableMetric: string; config: { recipe: { batchSize: number } } };
    expect(results.tableMetric).toBe('last-epoch');
    expect(results.config.recipe.batchSize).toBe(8);
    expect(results.runs).toHaveLength(7);
    for (const run of results.runs) {
      expect(run.test['accuracy']).toBeGreaterThanOrEqual(0);
      expect(run.test['accuracy']).toBeLessThanOrEqual(1);
      expect(run.history).toHaveLength(1); // one epoch, one evaluation
      expect(run.best).toEqual(run.history[0]);
      expect(run.test).toEqual(run.history[0]!.test);
      expect(run.steps).toBe(2); // 16 images / batch 8
      // Roughly iso-FLOP: at W = 4 the rounding of widths and ranks (docs/deviations.md#pitfall-rounding) moves a family by up to ~15 %.
      expect(run.flopRatio).toBeGreaterThan(0.8);
      expect(run.flopRatio).toBeLessThan(1.2);
      if (run.method === 'rigl' || run.method === 'set') expect(run.realisedDensity).toBeCloseTo(1 - run.maskSparsity, 2);
    }
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('77.0 [EP]'); // dense, docs/paper-results.md#cifar-100
    expect(md).toContain('NOT FOUND');
    expect(md).toMatch(/\| Sparse Parallel \(RigL\) \| \d+\.\d\d ± n\/a \(\d+\.\d\d\) \| NOT FOUND \|/); // one seed: no spread
    expect(md).toContain('## Paper: CIFAR-100 ResNet-18, Sparse Wide by sparse-training method');
    // The accuracy-vs-sparsity plot (shared with the other tables, @sparse-ift/reproduce's accuracyPlotSvg), linked from results.md.
    const svg = readFileSync(outcome.files['plot']!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Sparse Parallel');
    expect(md).toContain('](accuracy-vs-sparsity.svg)');

    // Every run's exported ResNet (masks, BN statistics, every family's blocks) loads with tf.loadLayersModel and,
    // behind the same test-time input pipeline, scores the loss the trainer recorded, to the last bit.
    const config = resolveConfig('smoke');
    const { test } = loadCifarData(data, config.trainSubset, config.testSubset);
    for (const run of results.runs) {
      const loaded = await tfl.loadLayersModel(`file://${join(out, run.exportDir!, 'model.json')}`);
      expect((await evaluate(cifarTrainable(loaded, config.arch, run.seed), test)).loss, run.id).toBe(run.test.loss);
      expect(exportedModelInfo(loaded)?.dataset).toBe('cifar100');
      loaded.dispose();
    }

    // A second run into the same --out must not discard state silently; --resume reuses finished runs.
    await expect(experiment.run({ ...context, resume: false, force: false })).rejects.toThrow(/--resume.*--force/);
    const again = await experiment.run({ ...context, resume: true, force: false });
    expect(again.files['results.json']).toBe(join(out, 'results-2.json'));
    expect(existsSync(join(out, 'results.json'))).toBe(true);
  });
});
