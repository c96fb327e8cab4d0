// reproduction(): a toy reproduction (its "training" a formula) run end to end: run ids, records and row
// summaries in results.json, results.md with one plot per group, and --resume reusing finished runs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainResult } from '@sparse-ift/train';
import { reproduction, TOP1_ACCURACY, type ExperimentContext, type GridRow, type ResultsFile, type RunOptions } from '../src/index.js';

interface ToyRow extends GridRow {
  model: 'a' | 'b';
}
interface ToyConfig {
  preset: string;
  rows: ToyRow[];
}

const rows: ToyRow[] = [
  { model: 'a', family: 'dense', sparsity: 0, method: 'dense' },
  { model: 'a', family: 'sparse-wide', sparsity: 0.5, method: 'rigl' },
  { model: 'b', family: 'sparse-wide', sparsity: 0.5, method: 'rigl' }, // no dense row in group b: no plot
];

/** Accuracy 0.5 + s/4 + seed/100 after the last of two epochs; 0.1 less after the first. */
function toyResult(row: ToyRow, seed: number): TrainResult {
  const accuracy = 0.5 + row.sparsity / 4 + seed / 100;
  const history = [0, 1].map((epoch) => ({ epoch, step: 5 * (epoch + 1), trainLoss: 1, test: { loss: 1 - accuracy, accuracy: accuracy - 0.1 * (1 - epoch) }, lr: 0.1 }));
  return { history, test: history[1]!.test, steps: 10, stoppedEarly: false, resumedFromStep: 0, wallSeconds: 2, input: { samples: 640, waitSeconds: 0.5, stepSeconds: 1.5, samplesPerSecond: 320 } };
}

function toy(trained: string[], options: RunOptions[]) {
  return reproduction<ToyConfig, ToyRow, { images: number }>({
    name: 'toy-test',
    description: 'a toy grid',
    presets: { quick: { description: 'q', defaultSeeds: 2 } },
    defaultPreset: 'quick',
    configure: (preset) => ({ preset, rows }),
    score: TOP1_ACCURACY,
    tableMetric: () => 'last-epoch accuracy',
    flopConvention: 'toy FLOPs',
    load: async () => ({ data: { images: 12 }, about: { images: 12 }, line: 'data: 12 toy images' }),
    modelName: (_config, row) => `toy-${row.model}`,
    async train({ row, seed, options: run }) {
      trained.push(run.label);
      options.push(run);
      return { result: toyResult(row, seed), maskSparsity: row.sparsity, footprint: { params: 100, nonzeroParams: 60, sparseFlops: 1000, flopRatio: 1, realisedDensity: 1 - row.sparsity } };
    },
    report: (results, data) => ({ document: `# toy, ${data.images} images, ${results.rows.length} rows\n`, table: 'the table' }),
    plot: { group: (row) => row.model, title: (_config, group) => `toy ${group}` },
  });
}

describe('reproduction()', () => {
  it('trains the grid, writes records, row summaries, results.md and a plot per group with a dense row; --resume reuses runs', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'sift-toy-'));
    const trained: string[] = [];
    const options: RunOptions[] = [];
    const log: string[] = [];
    const context: ExperimentContext = { preset: 'quick', seeds: 2, outDir, resume: false, force: false, backendLine: 'cpu', backend: { name: 'cpu' }, progress: false, log: (line) => log.push(line) };
    const experiment = toy(trained, options);
    const outcome = await experiment.run(context);

    expect(trained).toEqual(['toy-a-dense-s0-dense-seed0', 'toy-a-sparse-wide-s0.5-rigl-seed0', 'toy-b-sparse-wide-s0.5-rigl-seed0', 'toy-a-dense-s0-dense-seed1', 'toy-a-sparse-wide-s0.5-rigl-seed1', 'toy-b-sparse-wide-s0.5-rigl-seed1']);
    expect(options[0]).toMatchObject({ checkpointFile: join(outDir, 'state', 'checkpoints', 'toy-a-dense-s0-dense-seed0.bin'), tensorboardDir: join(outDir, 'tensorboard', 'toy-a-dense-s0-dense-seed0'), resume: false, progress: false });
    expect(log).toContain('data: 12 toy images');
    expect(log).toContain('[2/6] toy-a-sparse-wide-s0.5-rigl-seed0: accuracy 62.50%, FLOP ratio 1.000, 2.0 s');

    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as ResultsFile<ToyConfig, ToyRow>;
    expect(results).toMatchObject({ experiment: 'toy-test', preset: 'quick', seeds: 2, data: { images: 12 }, tableMetric: 'last-epoch accuracy', flopConvention: 'toy FLOPs', backendLine: 'cpu' });
    expect(results.runs.map((r) => [r.model, r.seed, r.test.accuracy])).toEqual([['a', 0, 0.5], ['a', 0, 0.625], ['b', 0, 0.625], ['a', 1, 0.51], ['a', 1, 0.635], ['b', 1, 0.635]]);
    expect(results.runs[0]!.best.epoch).toBe(1);
    // Each row over its two seeds: (62.5 + 63.5) / 2 = 63.0, sample std √((0.5² + 0.5²) / 1).
    expect(results.rows.map((r) => r.model)).toEqual(['a', 'a', 'b']);
    expect(results.rows[1]!.mean).toBeCloseTo(63, 10);
    expect(results.rows[1]!.std).toBeCloseTo(Math.sqrt(0.5), 10);
    expect(results.rows[1]!.seeds).toBe(2);

    expect(Object.keys(outcome.files).sort()).toEqual(['plot-a', 'results.json', 'results.md']);
    expect(readFileSync(outcome.files['plot-a']!, 'utf8')).toContain('toy a');
    expect(readFileSync(outcome.files['results.md']!, 'utf8')).toBe('# toy, 12 images, 3 rows\n\n![accuracy against sparsity](accuracy-vs-sparsity-a.svg)\n');
    expect(outcome.table).toBe('the table');

    trained.length = 0;
    const again = await experiment.run({ ...context, resume: true });
    expect(trained).toEqual([]);
    expect(again.files['results.json']).toBe(join(outDir, 'results-2.json'));
  });
});
