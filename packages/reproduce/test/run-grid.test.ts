// The pieces the reproductions share: the resumable (seed × row) grid, mask counts, seed statistics and
// the ours-vs-paper table columns, against hand-worked values.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import type { MaskedParam } from '@sparse-ift/core';
import { cifarRecipe } from '@sparse-ift/train';
import {
  bestIndex,
  groupByRow,
  maskCounts,
  mean,
  meanFootprint,
  oursPaperColumns,
  paperCellText,
  prepareStateDir,
  recipeTrainConfig,
  runGrid,
  sampleStd,
  writeResultFile,
} from '../src/index.js';

describe('runGrid', () => {
  it('trains seeds outermost, stores each record, and on --resume reuses finished runs', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'sift-grid-'));
    const rows = ['a', 'b'];
    const trained: string[] = [];
    const log: string[] = [];
    const grid = (resume: boolean, stopAt = Infinity) =>
      runGrid({
        rows,
        seeds: 2,
        state: prepareStateDir({ outDir, resume, force: false }),
        runId: (row, seed) => `${row}-seed${seed}`,
        trainOne: async (row, seed, id) => {
          if (trained.length >= stopAt) throw new Error('interrupted');
          trained.push(id);
          return { id, score: seed * 10 + (row === 'a' ? 1 : 2) };
        },
        describe: (r) => `score ${r.score}`,
        log: (line) => log.push(line),
      });
    await expect(grid(false, 3)).rejects.toThrow('interrupted');
    expect(trained).toEqual(['a-seed0', 'b-seed0', 'a-seed1']);
    expect(JSON.parse(readFileSync(join(outDir, 'state', 'finished', 'a-seed1.json'), 'utf8'))).toEqual({ id: 'a-seed1', score: 11 });
    trained.length = 0;
    log.length = 0;
    const runs = await grid(true);
    expect(trained).toEqual(['b-seed1']);
    expect(runs.map((r) => r.score)).toEqual([1, 2, 11, 12]);
    expect(log).toEqual([
      '[1/4] a-seed0: already finished, reusing its result',
      '[2/4] b-seed0: already finished, reusing its result',
      '[3/4] a-seed1: already finished, reusing its result',
      '[4/4] b-seed1: score 12',
    ]);
  });
});

describe('maskCounts', () => {
  it('counts ones and elements over all masks; density 1 without masks', () => {
    const masks = [tf.tensor1d([1, 0, 1, 1]), tf.tensor2d([[0, 0], [1, 0]])];
    const params = masks.map((mask) => ({ mask }) as unknown as MaskedParam);
    expect(maskCounts(params)).toEqual({ ones: 4, size: 8, density: 0.5 });
    expect(maskCounts([])).toEqual({ ones: 0, size: 0, density: 1 });
    masks.forEach((m) => m.dispose());
  });
});

describe('seed statistics and table pieces', () => {
  it('mean and sample (n − 1) standard deviation', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Deviations ±1.5, ±0.5: (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(sampleStd([7])).toBe(0);
  });

  it('groups runs by (family, sparsity, method) in order of first appearance', () => {
    const runs = [
      { family: 'sparse-wide', sparsity: 0.5, method: 'rigl', seed: 0 },
      { family: 'dense', sparsity: 0, method: 'dense', seed: 0 },
      { family: 'sparse-wide', sparsity: 0.5, method: 'rigl', seed: 1 },
      { family: 'sparse-wide', sparsity: 0.5, method: 'set', seed: 0 },
    ] as const;
    expect(groupByRow(runs).map((g) => g.map((r) => r.seed))).toEqual([[0, 1], [0], [0]]);
    expect(groupByRow(runs)[2]![0]!.method).toBe('set');
  });

  it("a row's footprint: the first run's params, rounded means of counts, means of ratios and wall time", () => {
    const run = (nonzeroParams: number, sparseFlops: number, flopRatio: number, realisedDensity: number, wallSeconds: number) => ({ params: 1000, nonzeroParams, sparseFlops, flopRatio, realisedDensity, wallSeconds });
    expect(meanFootprint([run(100, 2001, 0.9, 0.1, 10), run(101, 2002, 1.1, 0.2, 20)])).toEqual({
      params: 1000,
      nonzeroParams: 101, // 100.5 rounds up
      sparseFlops: 2002, // 2001.5 rounds up
      flopRatio: 1,
      realisedDensity: 0.15000000000000002, // (0.1 + 0.2) / 2 in doubles
      wallSecondsMean: 15,
    });
  });

  it('best index takes the first maximum', () => {
    expect(bestIndex([0.1, 0.4, 0.4, 0.2])).toBe(1);
  });

  it('writes ours | paper column pairs and paper cells', () => {
    expect(oursPaperColumns([0.5, 0.9], 'SW ')).toEqual({ head: 'SW 50% ours | SW 50% paper | SW 90% ours | SW 90% paper', rule: '---|---|---|---' });
    expect(paperCellText({ value: 80.1, source: '[EP]' })).toBe('80.1 [EP]');
    expect(paperCellText({ value: null, source: '' })).toBe('NOT FOUND');
  });

  it('turns a recipe and mask schedule into trainer options', () => {
    const recipe = cifarRecipe(30);
    expect(recipeTrainConfig(recipe, { frequency: 100, dropFraction: 0.3, endFraction: 0.75 }, 'rigl', 3)).toEqual({
      seed: 3,
      epochs: 30,
      batchSize: 128,
      optimizer: recipe.optimizer,
      schedule: recipe.schedule,
      labelSmoothing: 0,
      mask: { method: 'rigl', frequency: 100, dropFraction: 0.3, endFraction: 0.75 },
    });
  });

  it('writes a result file beside an earlier one unless forced', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'sift-files-'));
    const files: Record<string, string> = {};
    expect(writeResultFile({ outDir, force: false }, files, 'results.md', 'results.md', 'one')).toBe(join(outDir, 'results.md'));
    expect(writeResultFile({ outDir, force: false }, files, 'results.md', 'results.md', 'two')).toBe(join(outDir, 'results-2.md'));
    expect(files['results.md']).toBe(join(outDir, 'results-2.md'));
    expect(readFileSync(join(outDir, 'results.md'), 'utf8')).toBe('one');
    expect(writeResultFile({ outDir, force: true }, files, 'results.md', 'results.md', 'three')).toBe(join(outDir, 'results.md'));
    expect(readFileSync(join(outDir, 'results.md'), 'utf8')).toBe('three');
  });
});
