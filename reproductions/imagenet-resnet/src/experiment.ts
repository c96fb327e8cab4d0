/**
 * The `imagenet-resnet` experiment (docs/paper-results.md#imagenet): ResNet-18 (dense, SW, SP) and ResNet-34 (dense, SW) at
 * s = 0.5 / 0.75 / 0.9 with RigL, the official recipe (docs/recipes.md#imagenet-resnet); results.md with the paper's cells. Each run's
 * FLOP ratio divides by the dense model's official FLOPs at the input size (3,647,128,359 / 7,355,270,501
 * at 224², docs/reference-values.md#imagenet).
 */
import { modelFootprint, reproduction, TOP1_ACCURACY } from '@sparse-ift/reproduce';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import { recipeTrainConfig, train } from '@sparse-ift/train';
import { loadImageNet, type ImageNetData } from './data.js';
import { buildImageNetNet } from './model.js';
import { PRESETS, resolveConfig, type ImageNetConfig, type ImageNetRow } from './presets.js';
import { resultsMarkdown } from './report.js';
import { trainFromStream } from './stream-train.js';

export const IMAGENET_RESNET = reproduction<ImageNetConfig, ImageNetRow, ImageNetData>({
  name: 'imagenet-resnet',
  description: 'Paper table (docs/paper-results.md#imagenet): ImageNet ResNet-18 (dense, Sparse Wide, Sparse Parallel) and ResNet-34 (dense, Sparse Wide) at s = 0.5/0.75/0.9 with RigL',
  presets: PRESETS,
  defaultPreset: 'short',
  configure: resolveConfig,
  score: TOP1_ACCURACY,
  tableMetric: () => 'last-epoch top-1 on the validation set',
  flopConvention: 'official (Cerebras counter, docs/flops.md#official-counter), forward FLOPs per image at realised mask densities',
  async load(config, ctx) {
    const data = await loadImageNet(config, ctx.dataDir, ctx.log);
    const trainImages = data.kind === 'memory' ? data.train.count : data.trainImages;
    const about = {
      source: data.source,
      layout: data.shards.layout,
      format: data.shards.format,
      streamed: data.kind === 'stream',
      trainImages,
      validationImages: data.kind === 'memory' ? data.test.count : 'all in the validation shards',
    };
    const line =
      data.kind === 'memory'
        ? `data: ${data.train.count} train / ${data.test.count} validation images decoded at ${config.imageSize}²`
        : `data: streaming ${trainImages.toLocaleString('en-US')} train images per epoch at ${config.imageSize}² (random-resized-crop + flip)`;
    return { data, about, line };
  },
  modelName: (config, row) => config.archs[row.model].name,
  // The model takes images normalised with the ImageNet mean and std per channel (not evaluable by sift evaluate yet).
  exportInfo: () => ({ dataset: 'imagenet' }),
  async train({ config, row, seed, data, options }) {
    const arch = config.archs[row.model];
    const net = buildImageNetNet(arch, row.family, row.sparsity, seed, data.kind === 'memory' ? 'raw' : 'normalized');
    try {
      const run = { checkpointEvery: 1000, ...options };
      const result =
        data.kind === 'stream'
          ? await trainFromStream({ net, method: row.method, seed, config, shards: data.shards, trainImages: data.trainImages, ...run })
          : await train(net.trainable, data, { ...recipeTrainConfig(config.recipe, config.mask, row.method, seed), ...run });
      return { result, maskSparsity: net.resolved.maskSparsity, footprint: modelFootprint(net.model, net.trainable.maskedParams, resnetFlopBudget(arch)), model: net.model };
    } catch (error) {
      net.model.dispose();
      throw error;
    }
  },
  report: resultsMarkdown,
  plot: {
    group: (row) => row.model,
    title: (config, model) => `ImageNet ${config.archs[model as ImageNetRow['model']].name}, preset ${config.preset}: last-epoch top-1 at equal FLOPs`,
  },
});
