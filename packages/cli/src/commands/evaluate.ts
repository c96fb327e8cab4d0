// `sift evaluate <model> [--data NAME] [--data-dir DIR]`: top-1 accuracy and loss of an exported tf.js
// model (model.json + weights, e.g. from core's exportModel or model.save('file://…')) on a data set.
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BACKEND_NAMES, describeBackend, initBackend } from '@sparse-ift/backend';
import { collectMaskedParams, exportedModelInfo, fileSystem, realisedDensity, type ExportedModelInfo } from '@sparse-ift/core';
import { cifarBatches, loadCifar100, loadFashionMnist, type ImageSet } from '@sparse-ift/data-vision';
import { evaluate, type LabelledData } from '@sparse-ift/train';
// The zoos' own layer classes must be registered before a model using them is deserialized.
import '@sparse-ift/resnet';
import '@sparse-ift/gpt';
import '@sparse-ift/vit';
import '@sparse-ift/mixer';
import { UsageError } from '../errors.js';
import { logLine, printJson } from '../output.js';
import { parseBackend } from '../options.js';

export const EVALUATION_DATASETS = ['fashion-mnist', 'cifar100'] as const;
export type EvaluationDataset = (typeof EVALUATION_DATASETS)[number];

interface EvaluateOptions {
  data?: string;
  dataDir?: string;
  split: string;
  limit?: string;
  batchSize: string;
  backend: string;
  json?: boolean;
}

export interface Evaluation {
  model: string;
  dataset: EvaluationDataset;
  split: 'test' | 'train';
  source: string;
  images: number;
  accuracy: number;
  loss: number;
  maskedTensors: number;
  /** Ones over values of the masked tensors (undefined when there are none). */
  maskDensity?: number;
}

/** Images N×H×W×C in [0, 1] average-pooled by `pool` per side (float32), then (x − mean) / std. */
function preprocess(set: ImageSet, count: number, how: NonNullable<ExportedModelInfo['preprocess']>): Float32Array {
  const pool = how.pool ?? 1;
  if (!Number.isInteger(pool) || pool < 1 || set.height % pool !== 0 || set.width % pool !== 0) {
    throw new Error(`the model's preprocess.pool ${pool} does not divide ${set.height}×${set.width} images`);
  }
  const [h, w, c] = [set.height / pool, set.width / pool, set.channels];
  const mean = how.mean ?? 0;
  const std = how.std ?? 1;
  const out = new Float32Array(count * h * w * c);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let k = 0; k < c; k++) {
          let sum = 0;
          for (let i = 0; i < pool; i++) for (let j = 0; j < pool; j++) sum += set.images[((n * set.height + r * pool + i) * set.width + q * pool + j) * c + k]!;
          // The pooled pixel is a float32 before it is standardised, as in the Fashion-MNIST reproduction's pipeline.
          out[((n * h + r) * w + q) * c + k] = (Math.fround(sum / (pool * pool)) - mean) / std;
        }
      }
    }
  }
  return out;
}

/** The split as in-memory samples, shaped for the model's input. */
async function loadSplit(dataset: EvaluationDataset, split: 'test' | 'train', dataDir: string | undefined, info: ExportedModelInfo | undefined, limit: number | undefined): Promise<{ data: Omit<LabelledData, 'sampleShape'>; source: string }> {
  if (dataset === 'fashion-mnist') {
    const raw = await loadFashionMnist({ dataDir });
    const set = raw[split];
    const count = Math.min(limit ?? set.count, set.count);
    return { data: { images: preprocess(set, count, info?.preprocess ?? {}), labels: set.labels.slice(0, count), count }, source: raw.source };
  }
  if (!dataDir) throw new UsageError('--data cifar100 needs --data-dir, the folder holding train.bin and test.bin (cifar-100-binary)');
  const raw = loadCifar100(dataDir);
  const set = raw[split];
  const count = Math.min(limit ?? set.count, set.count);
  const subset: ImageSet = { ...set, count, images: set.images.subarray(0, count * 32 * 32 * 3), labels: set.labels.subarray(0, count) };
  // The evaluation pipeline of the CIFAR reproduction: no augmentation, the official mean/std.
  const images = new Float32Array(count * 32 * 32 * 3);
  let at = 0;
  for (const batch of cifarBatches(subset, { batchSize: 1000, train: false })) {
    images.set(batch.images, at);
    at += batch.images.length;
  }
  return { data: { images, labels: Int32Array.from(subset.labels), count }, source: raw.source };
}

/** Loads the exported model in `modelPath` and evaluates it. */
export async function evaluateExportedModel(modelPath: string, options: { dataset?: string; dataDir?: string; split?: 'test' | 'train'; limit?: number; batchSize?: number }): Promise<Evaluation> {
  const model = await tfl.loadLayersModel(fileSystem(modelPath));
  try {
    const info = exportedModelInfo(model);
    const dataset = options.dataset ?? info?.dataset;
    if (dataset === undefined) throw new UsageError(`${modelPath} does not record its data set; pass --data (${EVALUATION_DATASETS.join(', ')})`);
    if (!(EVALUATION_DATASETS as readonly string[]).includes(dataset)) {
      throw new UsageError(`--data '${dataset}' cannot be evaluated; use one of: ${EVALUATION_DATASETS.join(', ')}`);
    }
    const split = options.split ?? 'test';
    const { data, source } = await loadSplit(dataset as EvaluationDataset, split, options.dataDir, info, options.limit);
    const sampleShape = model.inputs[0]!.shape.slice(1) as number[];
    const perSample = sampleShape.reduce((a, b) => a * b, 1);
    if (sampleShape.some((d) => d == null) || perSample * data.count !== data.images.length) {
      throw new Error(
        `${modelPath} takes inputs of shape [${sampleShape.join(', ')}], but ${dataset} gives ${data.images.length / Math.max(1, data.count)} values per image` +
          ' after the preprocessing its model.json records; export it with exportModel(model, dir, { preprocess: { pool, mean, std } })',
      );
    }
    // A softmax output is turned back into log-probabilities, which the cross-entropy treats as logits.
    const last = model.layers.at(-1);
    const softmaxOut = (last?.getConfig() as { activation?: string } | undefined)?.activation === 'softmax';
    const logits = (x: tf.Tensor): tf.Tensor => {
      const y = model.predict(x) as tf.Tensor;
      return softmaxOut ? tf.tidy(() => tf.log(tf.maximum(y, 1e-30))) : y;
    };
    const result = await evaluate({ params: [], maskedParams: [], logits }, { ...data, sampleShape }, { batchSize: options.batchSize ?? 500 });
    const masked = collectMaskedParams(model);
    return {
      model: modelPath,
      dataset: dataset as EvaluationDataset,
      split,
      source,
      images: data.count,
      accuracy: result['accuracy']!,
      loss: result.loss,
      maskedTensors: masked.length,
      maskDensity: masked.length > 0 ? realisedDensity(masked).overall : undefined,
    };
  } finally {
    model.dispose();
  }
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} '${value}' must be a positive integer`);
  return n;
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('top-1 accuracy and loss of an exported model (model.json + weights) on a data set')
    .argument('<model>', 'folder holding model.json (or the model.json file)')
    .option('--data <name>', `data set: ${EVALUATION_DATASETS.join(', ')} (default: the one the model records)`)
    .option('--data-dir <dir>', 'folder holding the data set files (Fashion-MNIST: else the system copy)')
    .option('--split <split>', 'test or train', 'test')
    .option('--limit <n>', 'evaluate the first n images only')
    .option('--batch-size <n>', 'images per forward pass', '500')
    .option('--backend <name>', `tf.js backend: auto, ${BACKEND_NAMES.join(', ')}`, 'auto')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (modelPath: string, options: EvaluateOptions) => {
      if (!existsSync(modelPath)) throw new UsageError(`${modelPath} does not exist; pass the folder that model.save('file://…') or exportModel wrote`);
      if (options.split !== 'test' && options.split !== 'train') throw new UsageError(`--split '${options.split}' must be test or train`);
      if (options.dataDir !== undefined && !(existsSync(options.dataDir) && statSync(options.dataDir).isDirectory())) {
        throw new UsageError(`--data-dir '${options.dataDir}' is not a folder; pass the folder that holds the data set files`);
      }
      const limit = positiveInt('--limit', options.limit);
      const batchSize = positiveInt('--batch-size', options.batchSize);
      const backendName = parseBackend(options.backend);
      const backend = await initBackend({ backend: backendName, training: false, log: logLine });
      logLine(describeBackend(backend));
      const r = await evaluateExportedModel(modelPath, { dataset: options.data, dataDir: options.dataDir, split: options.split, limit, batchSize });
      if (options.json) {
        printJson({ ...r, backend });
        return;
      }
      const density = r.maskDensity === undefined ? 'no masked tensors' : `${r.maskedTensors} masked tensor${r.maskedTensors === 1 ? '' : 's'} at density ${r.maskDensity.toFixed(4)}`;
      process.stdout.write(
        `model:    ${r.model} (${density})\n` +
          `data:     ${r.dataset} ${r.split}, ${r.images} images, from ${r.source}\n` +
          `accuracy: ${(100 * r.accuracy).toFixed(2)} %\n` +
          `loss:     ${r.loss.toFixed(4)}\n`,
      );
    });
}
