/**
 * The `gpt3-small-wikitext103` experiment (docs/recipes.md#gpt-3-small-wikitext-103,
 * docs/paper-results.md#gpt-3-small): dense, Sparse Wide 50 % static and Sparse
 * Wide 75 % RigL, trained on WikiText-103 and compared by validation perplexity. FLOPs are per sequence.
 */
import { countFlops } from '@sparse-ift/core';
import { buildGpt, gptOpList } from '@sparse-ift/gpt';
import { modelFootprint, PERPLEXITY, reproduction, type GridRow } from '@sparse-ift/reproduce';
import { train } from '@sparse-ift/train';
import { loadWikiText, wikiTextBatches, type WikiText } from './data.js';
import { gptTrainable } from './model.js';
import { PRESETS, resolveConfig, resolveMicroBatch, trainConfig, type GptExperimentConfig } from './presets.js';
import type { DeviceMemoryLike } from '@sparse-ift/train';
import { resultsMarkdown } from './report.js';

export const GPT3_SMALL_WIKITEXT103 = reproduction<GptExperimentConfig, GridRow, WikiText>({
  name: 'gpt3-small-wikitext103',
  description: 'Paper (docs/paper-results.md#gpt-3-small): GPT-3 Small on WikiText-103, dense vs Sparse Wide 50 % (static) and 75 % (RigL), validation perplexity',
  presets: PRESETS,
  defaultPreset: 'short',
  configure: resolveConfig,
  score: PERPLEXITY,
  tableMetric: () => 'validation perplexity after the last step',
  flopConvention: 'official (Cerebras counter, docs/flops.md#official-counter), forward FLOPs per sequence at realised mask densities; only the masked linears are iso-FLOP (docs/flops.md#plan-views)',
  async load(_config, ctx) {
    const data = await loadWikiText(ctx.dataDir, ctx.log);
    const about = { source: data.source, trainTokens: data.train.tokens.length, validationTokens: data.validation.tokens.length, tokenizer: data.train.tokenizer };
    return { data, about, line: `data: WikiText-103 from ${data.source}` };
  },
  modelName: (config) => config.model.name,
  // GPT-2 BPE token ids in, next-token logits out.
  exportInfo: () => ({ dataset: 'wikitext-103' }),
  async train({ config, row, seed, data, options, backend }) {
    const shape = { sequenceLength: config.context };
    const model = buildGpt(config.model, { ...shape, family: row.family, sparsity: row.sparsity, seed });
    try {
      const trainable = gptTrainable(model);
      const micro = resolveMicroBatch(config, row, model.countParams(), backend['memory'] as DeviceMemoryLike | undefined);
      options.log(`${options.label}: ${micro.why}`);
      const batches = wikiTextBatches({ train: data.train.tokens, validation: data.validation.tokens }, config, seed, micro.microBatchSize);
      const result = await train(trainable, batches, { ...trainConfig(config, row.method, seed, micro.microBatchSize), checkpointEvery: 250, ...options });
      // The iso-FLOP reference: the dense model's forward FLOPs per sequence, from its op list (no weights allocated).
      const denseFlops = countFlops(gptOpList(config.model, { ...shape, family: 'dense', sparsity: 0 }).ops, 'official').dense;
      return { result, maskSparsity: row.sparsity, footprint: modelFootprint(model, trainable.maskedParams, denseFlops), model };
    } catch (error) {
      model.dispose();
      throw error;
    }
  },
  report: resultsMarkdown,
});
