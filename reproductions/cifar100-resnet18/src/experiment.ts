/**
 * The `cifar100-resnet18` experiment: every row of spec §5.1 (family × sparsity, RigL) and §5.2 (Sparse
 * Wide: static, SET, RigL) trained with the spec §4.1 recipe; writes results.json and results.md with
 * our numbers next to the paper's.
 */
import { join } from 'node:path';
import type { Family } from '@sparse-ift/core';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import {
  accuracyPlotSvg,
  bestIndex,
  FAMILY_LABEL,
  modelFootprint,
  prepareStateDir,
  recipeTrainConfig,
  runGrid,
  writeResultFile,
  type ExperimentContext,
  type ExperimentOutcome,
  type RunState,
  type ModelFootprint,
} from '@sparse-ift/reproduce';
import { train, type LabelledData, type MaskMethod } from '@sparse-ift/train';
import { loadCifarData } from './data.js';
import { buildCifarNet } from './model.js';
import { resolveConfig, type CifarConfig, type GridRow } from './presets.js';
import { resultsMarkdown, summarise } from './report.js';

/** One trained model, as stored in results.json. */
/** One trained run. Its footprint's flopRatio divides by the dense ResNet-18 (1,115,226,800 at W = 64). */
export interface RunRecord extends ModelFootprint {
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
  epochs: number;
  steps: number;
  wallSeconds: number;
  backend: string;
}

function runId(config: CifarConfig, row: GridRow, seed: number): string {
  return `${config.arch.name}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}

async function trainOne(config: CifarConfig, row: GridRow, seed: number, id: string, data: { train: LabelledData; test: LabelledData }, ctx: ExperimentContext, state: RunState): Promise<RunRecord> {
  const net = buildCifarNet(config.arch, config, row.family, row.sparsity, seed);
  try {
    const { recipe, mask } = config;
    const result = await train(net.trainable, data, {
      ...recipeTrainConfig(recipe, mask, row.method, seed),
      checkpointFile: state.checkpointFile(id),
      checkpointEvery: 500,
      resume: ctx.resume,
      tensorboardDir: join(ctx.outDir, 'tensorboard', id),
      progress: ctx.progress,
      label: id,
      log: ctx.log,
    });
    const accuracies = result.history.map((h) => h.testAccuracy);
    const best = bestIndex(accuracies);
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
      ...modelFootprint(net.model, net.trainable.maskedParams, resnetFlopBudget(config.arch)),
      epochs: recipe.epochs,
      steps: result.steps,
      wallSeconds: result.wallSeconds,
      backend: ctx.backend.name,
    };
  } finally {
    net.model.dispose();
  }
}

export async function runCifar100ResNet18(ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const config = resolveConfig(ctx.preset);
  const started = Date.now();
  const data = loadCifarData(ctx.dataDir, config.trainSubset, config.testSubset);
  const state = prepareStateDir(ctx);
  ctx.log(`data: CIFAR-100 from ${data.source} (${data.train.count} train / ${data.test.count} test images)`);
  const runs = await runGrid({
    rows: config.rows,
    seeds: ctx.seeds,
    state,
    runId: (row, seed) => runId(config, row, seed),
    trainOne: (row, seed, id) => trainOne(config, row, seed, id, data, ctx, state),
    describe: (record) => `last ${(100 * record.lastTestAccuracy).toFixed(2)}%, best ${(100 * record.bestTestAccuracy).toFixed(2)}%, FLOP ratio ${record.flopRatio.toFixed(3)}`,
    log: ctx.log,
  });

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
  writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');
  const md = resultsMarkdown({ preset: ctx.preset, config, rows, backendLine: ctx.backendLine, source: data.source, trainImages: data.train.count, testImages: data.test.count, seeds: ctx.seeds, wallSeconds });
  let document = md.document;
  const dense = rows.find((r) => r.family === 'dense');
  if (dense) {
    const points = rows
      .filter((r) => r.family !== 'dense')
      .map((r) => ({ series: `${FAMILY_LABEL[r.family]} (${r.method})`, sparsity: r.sparsity, accuracy: r.lastMean, std: r.lastStd }));
    const plot = writeResultFile(ctx, files, 'plot', 'accuracy-vs-sparsity.svg', await accuracyPlotSvg(points, dense.lastMean, `CIFAR-100 ${config.arch.name}, preset ${ctx.preset}: last-epoch top-1 at equal FLOPs`));
    document += `\n![accuracy against sparsity](${plot.split('/').at(-1)})\n`;
  }
  writeResultFile(ctx, files, 'results.md', 'results.md', document);
  return { files, table: md.familyTable, summary: { experiment: 'cifar100-resnet18', preset: ctx.preset, rows, wallSeconds } };
}
