/**
 * The `cifar100-resnet18` experiment: every row of the paper's CIFAR-100 tables, family × sparsity
 * (RigL; docs/paper-results.md#cifar-100) and Sparse Wide static / SET / RigL (#cifar-100-methods), trained
 * with the official recipe (docs/recipes.md#cifar-100-resnet-18); results.md shows our numbers next to the
 * paper's. Each run's FLOP ratio divides by the dense ResNet-18 (1,115,226,800 at W = 64).
 */
import { modelFootprint, reproduction, TOP1_ACCURACY } from '@sparse-ift/reproduce';
import { resnetFlopBudget } from '@sparse-ift/resnet';
import { recipeTrainConfig, train } from '@sparse-ift/train';
import { loadCifarData } from './data.js';
import { buildCifarNet } from './model.js';
import { PRESETS, resolveConfig, type CifarConfig, type CifarRow } from './presets.js';
import { resultsMarkdown } from './report.js';

export const CIFAR100_RESNET18 = reproduction<CifarConfig, CifarRow, ReturnType<typeof loadCifarData>>({
  name: 'cifar100-resnet18',
  description: 'Paper tables (docs/paper-results.md#cifar-100): CIFAR-100 ResNet-18, dense vs Sparse Wide / Parallel / Factorized / Doped (RigL) at s = 0.5/0.75/0.9, and Sparse Wide static / SET / RigL',
  presets: PRESETS,
  defaultPreset: 'short',
  configure: resolveConfig,
  score: TOP1_ACCURACY,
  tableMetric: (config) => config.tableMetric,
  flopConvention: 'official (Cerebras counter, docs/flops.md#official-counter), forward FLOPs per sample at realised mask densities',
  async load(config, ctx) {
    const data = loadCifarData(ctx.dataDir, config.trainSubset, config.testSubset);
    const about = { source: data.source, trainImages: data.train.count, testImages: data.test.count };
    return { data, about, line: `data: CIFAR-100 from ${data.source} (${data.train.count} train / ${data.test.count} test images)` };
  },
  modelName: (config) => config.arch.name,
  // The model takes images normalised as CIFAR-100's test pipeline does (sift evaluate --data cifar100 does that).
  exportInfo: () => ({ dataset: 'cifar100' }),
  async train({ config, row, seed, data, options }) {
    const net = buildCifarNet(config.arch, config, row.family, row.sparsity, seed);
    try {
      const result = await train(net.trainable, data, { ...recipeTrainConfig(config.recipe, config.mask, row.method, seed), checkpointEvery: 500, ...options });
      return { result, maskSparsity: net.resolved.maskSparsity, footprint: modelFootprint(net.model, net.trainable.maskedParams, resnetFlopBudget(config.arch)), model: net.model };
    } catch (error) {
      net.model.dispose();
      throw error;
    }
  },
  report: resultsMarkdown,
  plot: { title: (config) => `CIFAR-100 ${config.arch.name}, preset ${config.preset}: last-epoch top-1 at equal FLOPs` },
});
