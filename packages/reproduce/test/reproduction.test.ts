// reproduction(): a toy reproduction (its "training" a formula, its model a small masked MLP) run end to
// end: run ids, records and row summaries in results.json, results.md with one plot per group, every
// trained model exported and disposed of, and --resume reusing finished runs.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { collectMaskedParams, exportedModelInfo, sparseIftDense } from '@sparse-ift/core';
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
  return { history, test: history[1]!.test, steps: 10, stoppedEarly: false, resumedFromStep: 0, wallSeconds: 2, epochsAtChance: [], input: { samples: 640, waitSeconds: 0.5, stepSeconds: 1.5, samplesPerSecond: 320 } };
}

/** A 6 → 8 → 3 MLP whose hidden layer is the row's family (masked unless dense), seeded by the run. */
function toyModel(row: ToyRow, seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [6] });
  const hidden = sparseIftDense(input, { family: row.family, sparsity: row.sparsity, units: 8, name: 'fc1', maskSeed: 100 + seed, weightSeed: 200 + seed });
  const relu = tfl.layers.activation({ activation: 'relu' }).apply(hidden) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 3, name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 300 + seed }) }).apply(relu) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits });
}

/** The inputs every exported model is compared on. */
const PROBE = tf.tensor2d(Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i + 1)), [4, 6]);

/** Outputs of each trained model on PROBE, by run id, taken before the runner exports it. */
type Outputs = Map<string, Float32Array>;

function toy(trained: string[], options: RunOptions[], outputs: Outputs = new Map()) {
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
    exportInfo: (_config, data) => ({ dataset: 'toy', preprocess: { mean: data.images / 24, std: 2 } }),
    async train({ row, seed, options: run }) {
      const id = run.label.split(' ').at(-1)!; // the label is `[k/N, grid ≈ … left] <run id>`
      trained.push(id);
      options.push(run);
      const model = toyModel(row, seed);
      outputs.set(id, tf.tidy(() => (model.predict(PROBE) as tf.Tensor).dataSync() as Float32Array));
      return { result: toyResult(row, seed), maskSparsity: row.sparsity, footprint: { params: 100, nonzeroParams: 60, sparseFlops: 1000, flopRatio: 1, realisedDensity: 1 - row.sparsity }, model };
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
    // A backend reason naming an installed file by its absolute path, as Node's errors do.
    const backendLine = `cpu | tensorflow: fails to load (Cannot find module '${join(process.cwd(), 'node_modules', 'x', 'binding.node')}')`;
    const context: ExperimentContext = { preset: 'quick', seeds: 2, outDir, resume: false, force: false, backendLine, backend: { name: 'cpu', checkpoints: join(outDir, 'state') }, progress: false, log: (line) => log.push(line) };
    const outputs: Outputs = new Map();
    const experiment = toy(trained, options, outputs);
    const tensorsBefore = tf.memory().numTensors;
    const outcome = await experiment.run(context);
    expect(tf.memory().numTensors, 'the runner disposes of every trained model after exporting it').toBe(tensorsBefore);

    expect(trained).toEqual(['toy-a-dense-s0-dense-seed0', 'toy-a-sparse-wide-s0.5-rigl-seed0', 'toy-b-sparse-wide-s0.5-rigl-seed0', 'toy-a-dense-s0-dense-seed1', 'toy-a-sparse-wide-s0.5-rigl-seed1', 'toy-b-sparse-wide-s0.5-rigl-seed1']);
    expect(options[0]).toMatchObject({ checkpointFile: join(outDir, 'state', 'checkpoints', 'toy-a-dense-s0-dense-seed0.bin'), tensorboardDir: join(outDir, 'tensorboard', 'toy-a-dense-s0-dense-seed0'), resume: false, progress: false });
    expect(log).toContain('data: 12 toy images');
    expect(options[0]!.label).toBe('[1/6] toy-a-dense-s0-dense-seed0');
    expect(options[1]!.label).toMatch(/^\[2\/6, grid ≈ (< 1|\d+) s left\] toy-a-sparse-wide-s0\.5-rigl-seed0$/);
    expect(log).toContainEqual(expect.stringMatching(/^\[2\/6\] toy-a-sparse-wide-s0\.5-rigl-seed0: accuracy 62\.50%, FLOP ratio 1\.000, 2\.0 s; 2 of 6 done, 4 left, ≈ (< 1|\d+) s left$/));
    expect(log.at(-1)).toMatch(/^\[6\/6\] toy-b-sparse-wide-s0\.5-rigl-seed1: .*; all 6 done$/);

    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as ResultsFile<ToyConfig, ToyRow>;
    expect(results).toMatchObject({ experiment: 'toy-test', preset: 'quick', seeds: 2, data: { images: 12 }, tableMetric: 'last-epoch accuracy', flopConvention: 'toy FLOPs' });
    // No absolute path of this machine in a results file: installed files from node_modules/, the --out folder's own as relative paths.
    expect(results.backendLine).toBe("cpu | tensorflow: fails to load (Cannot find module 'node_modules/x/binding.node')");
    expect(results.backend['checkpoints']).toBe('state');
    for (const file of Object.values(outcome.files)) expect(readFileSync(file, 'utf8')).not.toMatch(new RegExp(`${process.cwd()}|${outDir}|/node_modules/`));
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

    // Every run's model, exported by the runner: tf.loadLayersModel('file://…') gives the trained model's outputs, bit for bit.
    for (const run of results.runs) {
      expect(run.exportDir).toBe(`models/${run.id}`);
      const loaded = await tfl.loadLayersModel(`file://${join(outDir, run.exportDir!, 'model.json')}`);
      expect((loaded.predict(PROBE) as tf.Tensor).dataSync()).toEqual(outputs.get(run.id));
      expect(collectMaskedParams(loaded).length).toBe(run.family === 'dense' ? 0 : 1);
      expect(exportedModelInfo(loaded)).toEqual({
        dataset: 'toy',
        preprocess: { mean: 0.5, std: 2 },
        run: { experiment: 'toy-test', preset: 'quick', id: run.id, family: run.family, sparsity: run.sparsity, maskSparsity: run.sparsity, method: run.method, seed: run.seed, 'test accuracy': run.test.accuracy },
      });
      loaded.dispose();
    }
    expect(existsSync(join(outDir, 'models', 'toy-b-sparse-wide-s0.5-rigl-seed1', 'weights.bin'))).toBe(true);

    trained.length = 0;
    const again = await experiment.run({ ...context, resume: true });
    expect(trained).toEqual([]);
    expect(again.files['results.json']).toBe(join(outDir, 'results-2.json'));
  });
});
