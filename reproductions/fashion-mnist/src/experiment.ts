/**
 * The `fashion-mnist` experiment: dense against the four Sparse-IFT families at equal FLOPs, every
 * (family, s, method) row over several seeds; writes results.json, results.md and an SVG plot.
 */
import { modelFootprint, reproduction, TOP1_ACCURACY, type GridRow } from '@sparse-ift/reproduce';
import { cifarRecipe, train } from '@sparse-ift/train';
import { loadData } from './data.js';
import { buildNet, denseBudget } from './model.js';
import { PRESETS, resolveConfig, type FashionConfig } from './presets.js';
import { resultsMarkdown } from './report.js';

type Data = Awaited<ReturnType<typeof loadData>>;

export const FASHION_MNIST = reproduction<FashionConfig, GridRow, Data>({
  name: 'fashion-mnist',
  description: 'Dense vs Sparse Wide / Parallel / Factorized / Doped at equal FLOPs on Fashion-MNIST (RigL; SW also static and SET)',
  presets: PRESETS,
  defaultPreset: 'default',
  configure: resolveConfig,
  score: TOP1_ACCURACY,
  tableMetric: () => 'test accuracy after the last epoch',
  flopConvention: 'official (Cerebras counter, docs/flops.md#official-counter), forward FLOPs per sample',
  async load(config, ctx) {
    const data = await loadData(ctx.dataDir, config);
    const line = `data: Fashion-MNIST from ${data.source} (${data.train.count} train / ${data.test.count} test images, ${config.inputSize}×${config.inputSize})`;
    return { data, about: { source: data.source, trainImages: data.train.count, testImages: data.test.count }, line };
  },
  modelName: (config) => config.architecture,
  // Images 2×2-pooled to 14×14 (inputSize 14) and standardised with the training subset's statistics.
  exportInfo: (config, data) => ({ dataset: 'fashion-mnist', preprocess: { pool: 28 / config.inputSize, ...data.stats } }),
  async train({ config, row, seed, data, options }) {
    const net = buildNet({ architecture: config.architecture, inputSize: config.inputSize, width: config.width, family: row.family, sparsity: row.sparsity, seed });
    try {
      const recipe = cifarRecipe(config.epochs);
      const result = await train(net.trainable, data, {
        seed,
        epochs: config.epochs,
        batchSize: config.batchSize,
        optimizer: { ...recipe.optimizer, lr: config.lr },
        schedule: recipe.schedule,
        mask: { method: row.method, frequency: config.maskUpdateFrequency },
        ...(config.warmupEpochs ? { warmupSteps: Math.round(config.warmupEpochs * Math.ceil(data.train.count / config.batchSize)) } : {}),
        checkpointEvery: config.checkpointEvery,
        ...options,
      });
      const budget = denseBudget(config.architecture, config.width, config.inputSize);
      return { result, maskSparsity: net.maskSparsity, footprint: modelFootprint(net.model, net.trainable.maskedParams, budget), model: net.model };
    } catch (error) {
      net.model.dispose();
      throw error;
    }
  },
  report: resultsMarkdown,
  plot: { title: (config) => `Fashion-MNIST ${config.architecture}, preset ${config.preset}: test accuracy at equal FLOPs` },
});
