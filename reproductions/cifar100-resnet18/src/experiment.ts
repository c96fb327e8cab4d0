/**
 * The `cifar100-resnet18` experiment: every row of spec §5.1 (family × sparsity, RigL) and §5.2 (Sparse
 * Wide: static, SET, RigL) trained with the spec §4.1 recipe; writes results.json and results.md with
 * our numbers next to the paper's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countFlops, modelFlopOps, modelParamCount, type Family } from '@sparse-ift/core';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import { accuracyPlotSvg, nonClobberingPath, prepareStateDir, train, type ExperimentContext, type ExperimentOutcome, type LabelledData, type MaskMethod, type RunState } from '@sparse-ift/train';
import { loadCifarData } from './data.js';
import { buildCifarNet } from './model.js';
import { resolveConfig, type CifarConfig, type GridRow } from './presets.js';
import { FAMILY_LABEL, resultsMarkdown, summarise } from './report.js';

/** One trained model, as stored in results.json. */
export interface RunRecord {
  id: string;
  family: Family;
  sparsity: number;
  method: MaskMethod;
  /** Sparsity the masks were drawn at (Sparse Wide: the FLOP-budget solve, spec §3.11). */
  maskSparsity: number;
  seed: number;
  /** Top-1 test accuracy (fraction) after the last epoch: what the tables show. */
  lastTestAccuracy: number;
  /** Best per-epoch top-1 test accuracy and its epoch (0-based); the official code prints both (spec §7.20). */
  bestTestAccuracy: number;
  bestEpoch: number;
  testAccuracyByEpoch: number[];
  params: number;
  nonzeroParams: number;
  /** Forward FLOPs per sample, official counter (spec §3.10), at the realised mask densities. */
  sparseFlops: number;
  /** sparseFlops / the dense ResNet-18's FLOPs (1,115,226,800 at W = 64): 1.0 is iso-FLOP. */
  flopRatio: number;
  realisedDensity: number;
  epochs: number;
  steps: number;
  wallSeconds: number;
  backend: string;
}

function runId(config: CifarConfig, row: GridRow, seed: number): string {
  return `${config.arch.name}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}

async function trainOne(config: CifarConfig, row: GridRow, seed: number, data: { train: LabelledData; test: LabelledData }, ctx: ExperimentContext, state: RunState): Promise<RunRecord> {
  const id = runId(config, row, seed);
  const net = buildCifarNet(config.arch, config, row.family, row.sparsity, seed);
  try {
    const { recipe, mask } = config;
    const result = await train(net.trainable, data, {
      seed,
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      optimizer: recipe.optimizer,
      schedule: recipe.schedule,
      labelSmoothing: recipe.labelSmoothing,
      mask: { method: row.method, frequency: mask.frequency, dropFraction: mask.dropFraction, endFraction: mask.endFraction },
      checkpointFile: state.checkpointFile(id),
      checkpointEvery: 500,
      resume: ctx.resume,
      tensorboardDir: join(ctx.outDir, 'tensorboard', id),
      progress: ctx.progress,
      label: id,
      log: ctx.log,
    });
    const accuracies = result.history.map((h) => h.testAccuracy);
    const best = accuracies.reduce((b, a, i) => (a > accuracies[b]! ? i : b), 0);
    const flops = countFlops(modelFlopOps(net.model), 'official');
    let ones = 0;
    let size = 0;
    for (const mp of net.trainable.maskedParams) {
      ones += sumOf(mp.mask.dataSync() as Float32Array);
      size += mp.mask.size;
    }
    const params = modelParamCount(net.model);
    return {
      id,
      family: row.family,
      sparsity: row.sparsity,
      method: row.method,
      maskSparsity: net.resolved.maskSparsity,
      seed,
      lastTestAccuracy: result.testAccuracy ?? NaN,
      bestTestAccuracy: accuracies[best] ?? NaN,
      bestEpoch: best,
      testAccuracyByEpoch: accuracies,
      params,
      nonzeroParams: params - (size - ones),
      sparseFlops: flops.sparse,
      flopRatio: flops.sparse / resnetFlopBudget(config.arch),
      realisedDensity: size > 0 ? ones / size : 1,
      epochs: recipe.epochs,
      steps: result.steps,
      wallSeconds: result.wallSeconds,
      backend: ctx.backend.name,
    };
  } finally {
    net.model.dispose();
  }
}

function sumOf(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

export async function runCifar100ResNet18(ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const config = resolveConfig(ctx.preset);
  const started = Date.now();
  const data = loadCifarData(ctx.dataDir, config.trainSubset, config.testSubset);
  const state = prepareStateDir(ctx);
  ctx.log(`data: CIFAR-100 from ${data.source} (${data.train.count} train / ${data.test.count} test images)`);
  const seeds = Array.from({ length: ctx.seeds }, (_, i) => i);
  const runs: RunRecord[] = [];
  const total = config.rows.length * seeds.length;
  for (const seed of seeds) {
    for (const row of config.rows) {
      const id = runId(config, row, seed);
      const earlier = state.finished<RunRecord>(id);
      if (earlier) {
        runs.push(earlier);
        ctx.log(`[${runs.length}/${total}] ${id}: already finished, reusing its result`);
        continue;
      }
      const record = await trainOne(config, row, seed, data, ctx, state);
      state.markFinished(id, record);
      runs.push(record);
      ctx.log(`[${runs.length}/${total}] ${id}: last ${(100 * record.lastTestAccuracy).toFixed(2)}%, best ${(100 * record.bestTestAccuracy).toFixed(2)}%, FLOP ratio ${record.flopRatio.toFixed(3)}`);
    }
  }

  const rows = summarise(runs);
  const wallSeconds = (Date.now() - started) / 1000;
  const results = {
    experiment: 'cifar100-resnet18',
    preset: ctx.preset,
    config,
    seeds: ctx.seeds,
    backend: ctx.backend,
    backendLine: ctx.backendLine,
    data: data.source,
    trainImages: data.train.count,
    testImages: data.test.count,
    startedAt: new Date(started).toISOString(),
    wallSeconds,
    tableMetric: config.tableMetric,
    flopConvention: 'official (Cerebras counter, spec §3.10), forward FLOPs per sample at realised mask densities',
    rows,
    runs,
  };
  const files: Record<string, string> = {};
  files['results.json'] = nonClobberingPath(join(ctx.outDir, 'results.json'), ctx.force);
  writeFileSync(files['results.json'], JSON.stringify(results, null, 2) + '\n');
  const md = resultsMarkdown({ preset: ctx.preset, config, rows, backendLine: ctx.backendLine, source: data.source, trainImages: data.train.count, testImages: data.test.count, seeds: ctx.seeds, wallSeconds });
  let document = md.document;
  const dense = rows.find((r) => r.family === 'dense');
  if (dense) {
    const points = rows
      .filter((r) => r.family !== 'dense')
      .map((r) => ({ series: `${FAMILY_LABEL[r.family]} (${r.method})`, sparsity: r.sparsity, accuracy: r.lastMean, std: r.lastStd }));
    files['plot'] = nonClobberingPath(join(ctx.outDir, 'accuracy-vs-sparsity.svg'), ctx.force);
    writeFileSync(files['plot'], await accuracyPlotSvg(points, dense.lastMean, `CIFAR-100 ${config.arch.name}, preset ${ctx.preset}: last-epoch top-1 at equal FLOPs`));
    document += `\n![accuracy against sparsity](${files['plot'].split('/').at(-1)})\n`;
  }
  files['results.md'] = nonClobberingPath(join(ctx.outDir, 'results.md'), ctx.force);
  writeFileSync(files['results.md'], document);
  return { files, table: md.familyTable, summary: { experiment: 'cifar100-resnet18', preset: ctx.preset, rows, wallSeconds } };
}
