/**
 * The `imagenet-resnet` experiment (spec §5.3): ResNet-18 (dense, SW, SP) and ResNet-34 (dense, SW) at
 * s = 0.5 / 0.75 / 0.9 with RigL, the spec §4.2 recipe; results.json and results.md with the paper's cells.
 */
import { join } from 'node:path';
import type { Family } from '@sparse-ift/core';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import {
  accuracyPlotSvg,
  bestIndex,
  FAMILY_LABEL,
  groupByRow,
  modelFootprint,
  mean,
  prepareStateDir,
  recipeTrainConfig,
  runGrid,
  sampleStd as std,
  writeResultFile,
  type ExperimentContext,
  type ExperimentOutcome,
  type RunState,
  type ModelFootprint,
} from '@sparse-ift/reproduce';
import { train, type LabelledData, type MaskMethod } from '@sparse-ift/train';
import { decodeIntoMemory, findImageNetShards, type ImageNetShards } from './data.js';
import { buildImageNetNet } from './model.js';
import { countTrainImages, trainFromStream } from './stream-train.js';
import type { ImageNetModel } from './paper.js';
import { resolveConfig, type ImageNetConfig, type ImageNetRow } from './presets.js';
import { resultsMarkdown } from './report.js';

/** One trained run. Its footprint's flopRatio divides by the dense model's official FLOPs at this input size (3,647,128,359 / 7,355,270,501 at 224², spec §6.2). */
export interface ImageNetRunRecord extends ModelFootprint {
  id: string;
  model: ImageNetModel;
  family: Family;
  sparsity: number;
  method: MaskMethod;
  maskSparsity: number;
  seed: number;
  lastTopOne: number;
  bestTopOne: number;
  bestEpoch: number;
  topOneByEpoch: number[];
  steps: number;
  wallSeconds: number;
  backend: string;
}

function runId(config: ImageNetConfig, row: ImageNetRow, seed: number): string {
  return `${config.archs[row.model].name}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}


/** One model's last-epoch top-1 % against sparsity (mean ± std over seeds), dense as the line; none without a dense run. */
async function modelPlot(model: ImageNetModel, runs: ImageNetRunRecord[], title: string): Promise<string | undefined> {
  const own = runs.filter((r) => r.model === model);
  const dense = own.filter((r) => r.family === 'dense');
  if (dense.length === 0) return undefined;
  const points = groupByRow(own.filter((r) => r.family !== 'dense')).map((rs) => {
    const topOne = rs.map((r) => 100 * r.lastTopOne);
    return { series: `${FAMILY_LABEL[rs[0]!.family]} (${rs[0]!.method})`, sparsity: rs[0]!.sparsity, accuracy: mean(topOne), std: std(topOne) };
  });
  return accuracyPlotSvg(points, mean(dense.map((r) => 100 * r.lastTopOne)), title);
}

type RunData = { kind: 'memory'; train: LabelledData; test: LabelledData } | { kind: 'stream'; shards: ImageNetShards; trainImages: number };

async function trainOne(config: ImageNetConfig, row: ImageNetRow, seed: number, id: string, data: RunData, ctx: ExperimentContext, state: RunState): Promise<ImageNetRunRecord> {
  const arch = config.archs[row.model];
  const net = buildImageNetNet(arch, row.family, row.sparsity, seed, data.kind === 'memory' ? 'raw' : 'normalized');
  try {
    const { recipe, mask } = config;
    const checkpointFile = state.checkpointFile(id);
    const tensorboardDir = join(ctx.outDir, 'tensorboard', id);
    const result =
      data.kind === 'stream'
        ? await trainFromStream({ net, method: row.method, seed, config, shards: data.shards, trainImages: data.trainImages, checkpointFile, checkpointEvery: 1000, resume: ctx.resume, tensorboardDir, label: id, log: ctx.log }).then((r) => ({
            steps: r.steps,
            wallSeconds: r.wallSeconds,
            history: r.history.map((h) => ({ testAccuracy: h.topOne })),
            testAccuracy: r.history.at(-1)?.topOne,
          }))
        : await train(net.trainable, data, {
            ...recipeTrainConfig(recipe, mask, row.method, seed),
            checkpointFile,
            checkpointEvery: 1000,
            resume: ctx.resume,
            tensorboardDir,
            progress: ctx.progress,
            label: id,
            log: ctx.log,
          });
    const accuracies = result.history.map((h) => h.testAccuracy);
    const best = bestIndex(accuracies);
    return {
      id,
      model: row.model,
      family: row.family,
      sparsity: row.sparsity,
      method: row.method,
      maskSparsity: net.resolved.maskSparsity,
      seed,
      lastTopOne: result.testAccuracy ?? NaN,
      bestTopOne: accuracies[best] ?? NaN,
      bestEpoch: best,
      topOneByEpoch: accuracies,
      ...modelFootprint(net.model, net.trainable.maskedParams, resnetFlopBudget(arch)),
      steps: result.steps,
      wallSeconds: result.wallSeconds,
      backend: ctx.backend.name,
    };
  } finally {
    net.model.dispose();
  }
}

export async function runImageNetResNet(ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const config = resolveConfig(ctx.preset);
  const started = Date.now();
  const shards = findImageNetShards(ctx.dataDir);
  ctx.log(`data: ImageNet ${shards.layout} ${shards.format} shards: ${shards.train.length} train, ${shards.validation.length} validation`);
  const state = prepareStateDir(ctx);
  let data: RunData;
  if (config.inMemory) {
    const decode = { imageSize: config.imageSize, resizeSize: config.resizeSize };
    data = {
      kind: 'memory',
      train: await decodeIntoMemory(shards, 'train', { ...decode, limit: config.trainSubset }),
      test: await decodeIntoMemory(shards, 'validation', { ...decode, limit: config.validationSubset }),
    };
    ctx.log(`data: ${data.train.count} train / ${data.test.count} validation images decoded at ${config.imageSize}²`);
  } else {
    const trainImages = config.trainImages ?? (await countTrainImages(shards));
    data = { kind: 'stream', shards, trainImages };
    ctx.log(`data: streaming ${trainImages.toLocaleString('en-US')} train images per epoch at ${config.imageSize}² (random-resized-crop + flip)`);
  }
  const trainCount = data.kind === 'memory' ? data.train.count : data.trainImages;
  const validationCount = data.kind === 'memory' ? data.test.count : null;

  const runs = await runGrid({
    rows: config.rows,
    seeds: ctx.seeds,
    state,
    runId: (row, seed) => runId(config, row, seed),
    trainOne: (row, seed, id) => trainOne(config, row, seed, id, data, ctx, state),
    describe: (record) => `top-1 ${(100 * record.lastTopOne).toFixed(2)}% (best ${(100 * record.bestTopOne).toFixed(2)}%), FLOP ratio ${record.flopRatio.toFixed(3)}`,
    log: ctx.log,
  });
  const wallSeconds = (Date.now() - started) / 1000;
  const results = {
    experiment: 'imagenet-resnet',
    preset: ctx.preset,
    config,
    seeds: ctx.seeds,
    backend: ctx.backend,
    backendLine: ctx.backendLine,
    data: { source: ctx.dataDir, layout: shards.layout, format: shards.format, streamed: data.kind === 'stream', trainImages: trainCount, validationImages: validationCount ?? 'all in the validation shards' },
    startedAt: new Date(started).toISOString(),
    wallSeconds,
    tableMetric: 'last-epoch top-1 on the validation set',
    flopConvention: 'official (Cerebras counter, spec §3.10), forward FLOPs per image at realised mask densities',
    runs,
  };
  const files: Record<string, string> = {};
  writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');
  const md = resultsMarkdown({ preset: ctx.preset, config, runs, backendLine: ctx.backendLine, data: `${ctx.dataDir} (${shards.layout}; ${trainCount} train images${validationCount === null ? ', all validation shards' : ` / ${validationCount} validation images`} at ${config.imageSize}²${data.kind === 'stream' ? ', streamed' : ''})`, seeds: ctx.seeds, wallSeconds });
  let document = md.document;
  for (const model of [...new Set(config.rows.map((r) => r.model))]) {
    const svg = await modelPlot(model, runs, `ImageNet ${config.archs[model].name}, preset ${ctx.preset}: last-epoch top-1 at equal FLOPs`);
    if (svg === undefined) continue;
    const plot = writeResultFile(ctx, files, `plot-${model}`, `accuracy-vs-sparsity-${model}.svg`, svg);
    document += `\n![${config.archs[model].name}: top-1 against sparsity](${plot.split('/').at(-1)})\n`;
  }
  writeResultFile(ctx, files, 'results.md', 'results.md', document);
  return { files, table: md.table, summary: { experiment: 'imagenet-resnet', preset: ctx.preset, runs, wallSeconds } };
}
