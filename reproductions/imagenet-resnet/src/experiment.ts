/**
 * The `imagenet-resnet` experiment (spec §5.3): ResNet-18 (dense, SW, SP) and ResNet-34 (dense, SW) at
 * s = 0.5 / 0.75 / 0.9 with RigL, the spec §4.2 recipe; results.json and results.md with the paper's cells.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countFlops, modelFlopOps, modelParamCount, type Family } from '@sparse-ift/core';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import { nonClobberingPath, train, type ExperimentContext, type ExperimentOutcome, type LabelledData, type MaskMethod } from '@sparse-ift/train';
import { decodeIntoMemory, findImageNetShards, type ImageNetShards } from './data.js';
import { buildImageNetNet } from './model.js';
import { countTrainImages, trainFromStream } from './stream-train.js';
import type { ImageNetModel } from './paper.js';
import { resolveConfig, type ImageNetConfig, type ImageNetRow } from './presets.js';
import { resultsMarkdown } from './report.js';

export interface ImageNetRunRecord {
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
  params: number;
  nonzeroParams: number;
  sparseFlops: number;
  /** ÷ the dense model's official FLOPs at this input size (3,647,128,359 / 7,355,270,501 at 224², spec §6.2). */
  flopRatio: number;
  realisedDensity: number;
  steps: number;
  wallSeconds: number;
  backend: string;
}

function runId(config: ImageNetConfig, row: ImageNetRow, seed: number): string {
  return `${config.archs[row.model].name}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}

function sumOf(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

type RunData = { kind: 'memory'; train: LabelledData; test: LabelledData } | { kind: 'stream'; shards: ImageNetShards; trainImages: number };

async function trainOne(config: ImageNetConfig, row: ImageNetRow, seed: number, data: RunData, ctx: ExperimentContext, stateDir: string): Promise<ImageNetRunRecord> {
  const id = runId(config, row, seed);
  const arch = config.archs[row.model];
  const net = buildImageNetNet(arch, row.family, row.sparsity, seed, data.kind === 'memory' ? 'raw' : 'normalized');
  try {
    const { recipe, mask } = config;
    const checkpointFile = join(stateDir, 'checkpoints', `${id}.bin`);
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
      seed,
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      optimizer: recipe.optimizer,
      schedule: recipe.schedule,
      labelSmoothing: recipe.labelSmoothing,
      mask: { method: row.method, frequency: mask.frequency, dropFraction: mask.dropFraction, endFraction: mask.endFraction },
            checkpointFile,
            checkpointEvery: 1000,
            resume: ctx.resume,
            tensorboardDir,
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
      params,
      nonzeroParams: params - (size - ones),
      sparseFlops: flops.sparse,
      flopRatio: flops.sparse / resnetFlopBudget(arch),
      realisedDensity: size > 0 ? ones / size : 1,
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
  mkdirSync(ctx.outDir, { recursive: true });
  const stateDir = join(ctx.outDir, 'state');
  if (existsSync(stateDir) && readdirSync(stateDir).length > 0 && !ctx.resume) {
    if (!ctx.force) throw new Error(`--out ${ctx.outDir} holds checkpoints of an earlier run (${stateDir}); pass --resume to continue it, --force to discard it and start over, or choose another --out`);
    rmSync(stateDir, { recursive: true, force: true });
  }
  mkdirSync(join(stateDir, 'finished'), { recursive: true });
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

  const runs: ImageNetRunRecord[] = [];
  for (let seed = 0; seed < ctx.seeds; seed++) {
    for (const row of config.rows) {
      const id = runId(config, row, seed);
      const finishedFile = join(stateDir, 'finished', `${id}.json`);
      if (ctx.resume && existsSync(finishedFile)) {
        runs.push(JSON.parse(readFileSync(finishedFile, 'utf8')) as ImageNetRunRecord);
        continue;
      }
      const record = await trainOne(config, row, seed, data, ctx, stateDir);
      writeFileSync(finishedFile, JSON.stringify(record, null, 2));
      runs.push(record);
      ctx.log(`${id}: top-1 ${(100 * record.lastTopOne).toFixed(2)}% (best ${(100 * record.bestTopOne).toFixed(2)}%), FLOP ratio ${record.flopRatio.toFixed(3)}`);
    }
  }
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
  files['results.json'] = nonClobberingPath(join(ctx.outDir, 'results.json'), ctx.force);
  writeFileSync(files['results.json'], JSON.stringify(results, null, 2) + '\n');
  const md = resultsMarkdown({ preset: ctx.preset, config, runs, backendLine: ctx.backendLine, data: `${ctx.dataDir} (${shards.layout}; ${trainCount} train images${validationCount === null ? ', all validation shards' : ` / ${validationCount} validation images`} at ${config.imageSize}²${data.kind === 'stream' ? ', streamed' : ''})`, seeds: ctx.seeds, wallSeconds });
  files['results.md'] = nonClobberingPath(join(ctx.outDir, 'results.md'), ctx.force);
  writeFileSync(files['results.md'], md.document);
  return { files, table: md.table, summary: { experiment: 'imagenet-resnet', preset: ctx.preset, runs, wallSeconds } };
}
