// The pieces the reproductions share: the resumable (seed × row) grid, run records and row
// summaries, seed statistics and the ours-vs-paper table columns, against hand-worked values.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Evaluation, TrainResult } from '@sparse-ift/train';
import {
  formatDuration,
  gridSecondsLeft,
  mean,
  oursPaperColumns,
  paperCellText,
  PERPLEXITY,
  prepareStateDir,
  runGrid,
  runRecord,
  sampleStd,
  scoreText,
  signedDelta,
  summariseRow,
  TOP1_ACCURACY,
  writeResultFile,
  type GridRow,
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
        state: prepareStateDir({ outDir, preset: 'test', resume, force: false }, { experiment: 'grid-test', config: {} }),
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
    expect(JSON.parse(readFileSync(join(outDir, 'state', 'finished', 'a-seed1.json'), 'utf8')).record).toEqual({ id: 'a-seed1', score: 11 });
    trained.length = 0;
    log.length = 0;
    const runs = await grid(true);
    expect(trained).toEqual(['b-seed1']);
    expect(runs.map((r) => r.score)).toEqual([1, 2, 11, 12]);
    expect(log).toEqual([
      '[1/4] a-seed0: already finished, reusing its result',
      '[2/4] b-seed0: already finished, reusing its result',
      '[3/4] a-seed1: already finished, reusing its result',
      '[4/4] b-seed1: score 12; all 4 done',
    ]);
  });
});

describe('the grid ETA', () => {
  it('says after each run how many are done and left and the time left, from the runs finished so far', async () => {
    // Row a takes 10 s, row b 30 s, on a clock the test advances; two seeds: a0, b0, a1, b1.
    const outDir = mkdtempSync(join(tmpdir(), 'sift-eta-'));
    let clock = 1000;
    const log: string[] = [];
    const labels: string[] = [];
    await runGrid({
      rows: ['a', 'b'],
      seeds: 2,
      state: prepareStateDir({ outDir, preset: 'test', resume: false, force: false }, { experiment: 'eta-test', config: {} }),
      runId: (row, seed) => `${row}-seed${seed}`,
      trainOne: async (row, _seed, id, label) => {
        labels.push(label);
        clock += row === 'a' ? 10 : 30;
        return { id };
      },
      describe: () => 'ok',
      log: (line) => log.push(line),
      now: () => clock,
    });
    expect(log).toEqual([
      // b0 not seen yet: as long as the average finished run (10 s); a1 like a0 (10 s); b1 likewise 10 s.
      '[1/4] a-seed0: ok; 1 of 4 done, 3 left, ≈ 30 s left',
      // a1 like a0 (10 s), b1 like b0 (30 s).
      '[2/4] b-seed0: ok; 2 of 4 done, 2 left, ≈ 40 s left',
      '[3/4] a-seed1: ok; 3 of 4 done, 1 left, ≈ 30 s left',
      '[4/4] b-seed1: ok; all 4 done',
    ]);
    // Each run's label (its progress bar and log lines): its place in the grid and the time left, this run included.
    expect(labels).toEqual(['[1/4] a-seed0', '[2/4, grid ≈ 30 s left] b-seed0', '[3/4, grid ≈ 40 s left] a-seed1', '[4/4, grid ≈ 30 s left] b-seed1']);
  });

  it("estimates a pending run by its row's earlier seeds, else by the average finished run", () => {
    // Rows 0 and 1 finished at 100 s and 300 s (row 1 twice: 200 s and 400 s); pending: row 0, row 1, row 2 (unseen).
    const finished = new Map([[0, [100]], [1, [200, 400]]]);
    expect(gridSecondsLeft([0, 1, 2], finished)).toBe(100 + 300 + (100 + 200 + 400) / 3);
    expect(gridSecondsLeft([0], new Map())).toBeUndefined();
  });

  it('formats durations as a person reads them', () => {
    expect([0.4, 44.6, 59.4, 59.6, 252, 594, 597, 2280, 3569, 3571, 11100].map(formatDuration)).toEqual([
      '< 1 s', '45 s', '59 s', '1.0 min', '4.2 min', '9.9 min', '10 min', '38 min', '59 min', '1 h 00 min', '3 h 05 min',
    ]);
  });
});

describe('seed statistics and table pieces', () => {
  it('mean and sample (n − 1) standard deviation', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Deviations ±1.5, ±0.5: (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(sampleStd([7]), 'one value has no spread to measure').toBeNull();
  });

  it('signs a difference', () => {
    expect(signedDelta(85.58, 85.51)).toBe('+0.07');
    expect(signedDelta(84.3, 85.5)).toBe('-1.20');
  });
  it('writes ours | paper column pairs and paper cells', () => {
    expect(oursPaperColumns([0.5, 0.9], 'SW ')).toEqual({ head: 'SW 50% ours | SW 50% paper | SW 90% ours | SW 90% paper', rule: '---|---|---|---' });
    expect(paperCellText({ value: 80.1, source: '[EP]' })).toBe('80.1 [EP]');
    expect(paperCellText({ value: null, source: '' })).toBe('NOT FOUND');
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

describe('run records and row summaries', () => {
  const row: GridRow = { family: 'sparse-wide', sparsity: 0.5, method: 'rigl' };
  const evaluation = (epoch: number, accuracy: number, perplexity: number): Evaluation => ({ epoch, step: 10 * (epoch + 1), trainLoss: 1, test: { loss: 0.5, accuracy, perplexity }, lr: 0.1 });
  const result = (history: Evaluation[]): TrainResult => ({ history, test: history.at(-1)!.test, steps: 30, stoppedEarly: false, resumedFromStep: 0, wallSeconds: 10, epochsAtChance: [], input: { samples: 960, waitSeconds: 1, stepSeconds: 8, samplesPerSecond: 960 / 9 } });
  const footprint = (nonzeroParams: number, sparseFlops: number, flopRatio: number, realisedDensity: number) => ({ params: 1000, nonzeroParams, sparseFlops, flopRatio, realisedDensity });
  const record = (seed: number, history: Evaluation[], fp: ReturnType<typeof footprint>, wallSeconds: number) =>
    runRecord({ id: `m-seed${seed}`, row, seed, maskSparsity: 0.5 + seed / 100, result: { ...result(history), wallSeconds }, footprint: fp, score: TOP1_ACCURACY, backend: 'cpu' });

  it('a record keeps the last evaluation as `test` and the best by its score, higher or lower', () => {
    const history = [evaluation(0, 0.6, 9), evaluation(1, 0.8, 7), evaluation(2, 0.7, 8)];
    const accuracy = record(0, history, footprint(500, 2000, 1, 0.5), 10);
    expect(accuracy).toMatchObject({ id: 'm-seed0', family: 'sparse-wide', sparsity: 0.5, method: 'rigl', seed: 0, steps: 30, backend: 'cpu', params: 1000 });
    expect(accuracy.test).toEqual(history[2]!.test);
    expect(accuracy.best).toEqual(history[1]);
    const perplexity = runRecord({ id: 'g', row, seed: 0, maskSparsity: 0.5, result: result([evaluation(0, 0, 9), evaluation(1, 0, 6), evaluation(2, 0, 6.5)]), footprint: footprint(1, 1, 1, 1), score: PERPLEXITY, backend: 'cpu' });
    expect(perplexity.best.epoch).toBe(1); // lower is better
    expect(() => runRecord({ id: 'x', row, seed: 0, maskSparsity: 0.5, result: { ...result([evaluation(0, 0.5, 1)]), test: undefined, stoppedEarly: true }, footprint: footprint(1, 1, 1, 1), score: TOP1_ACCURACY, backend: 'cpu' })).toThrow(/stopped before its last step/);
  });

  it("a row's summary: score mean ± sample std and best mean in %, first run's params, rounded mean counts, mean ratios", () => {
    const runs = [record(0, [evaluation(0, 0.9, 1), evaluation(1, 0.8, 1)], footprint(100, 2001, 0.9, 0.1), 10), record(1, [evaluation(0, 0.7, 1), evaluation(1, 0.85, 1)], footprint(101, 2002, 1.1, 0.2), 20)];
    const summary = summariseRow(row, runs, TOP1_ACCURACY);
    expect(summary).toMatchObject({ family: 'sparse-wide', sparsity: 0.5, method: 'rigl', seeds: 2, params: 1000, nonzeroParams: 101, sparseFlops: 2002, flopRatio: 1, wallSecondsMean: 15 });
    expect(summary.maskSparsity).toBeCloseTo(0.505, 12);
    expect(summary.mean).toBeCloseTo(82.5, 10); // last: 80 and 85
    expect(summary.std).toBeCloseTo(Math.sqrt(12.5), 10); // deviations ±2.5: (6.25 + 6.25) / 1
    expect(summary.bestMean).toBeCloseTo(87.5, 10); // best: 90 and 85
    expect(summary.realisedDensity).toBeCloseTo(0.15, 12);
  });

  it("a score with one seed reads 'n/a' for its spread, never ± 0.00", () => {
    expect(scoreText({ mean: 85.514, std: 0.5249 })).toBe('85.51 ± 0.52');
    expect(scoreText({ mean: 85.514, std: 0 })).toBe('85.51 ± 0.00'); // two seeds that agree: a measured 0
    expect(scoreText({ mean: 85.514, std: null })).toBe('85.51 ± n/a');
    const one = summariseRow(row, [record(0, [evaluation(0, 0.8, 1)], footprint(100, 2000, 1, 0.1), 10)], TOP1_ACCURACY);
    expect(one.std).toBeNull();
    expect(JSON.parse(JSON.stringify(one)).std).toBeNull(); // results.json says null, not 0
    expect(scoreText(one)).toBe('80.00 ± n/a');
  });
});
