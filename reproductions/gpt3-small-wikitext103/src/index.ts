// @sparse-ift/repro-gpt3-small-wikitext103: registers the `gpt3-small-wikitext103` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { runGpt3SmallWikiText103 } from './experiment.js';
import { PRESETS } from './presets.js';

export { runGpt3SmallWikiText103, type GptRunRecord } from './experiment.js';
export { PRESETS, ROWS, GPT_NANO_BPE, resolveConfig, type GptPreset, type GptRow, type GptExperimentConfig } from './presets.js';
export { trainLanguageModel, evaluatePerplexity, accumulatedGradients, type EvalPoint, type LmTrainResult } from './lm-train.js';
export { resultsMarkdown, PAPER_GPT } from './report.js';
export { loadWikiText, missingDataError, DATA_CARD } from './data.js';

registerExperiment({
  name: 'gpt3-small-wikitext103',
  description: 'Paper §5.5: GPT-3 Small on WikiText-103, dense vs Sparse Wide 50 % (static) and 75 % (RigL), validation perplexity',
  presets: Object.fromEntries(Object.entries(PRESETS).map(([name, p]) => [name, { description: p.description, defaultSeeds: p.defaultSeeds }])),
  defaultPreset: 'short',
  run: runGpt3SmallWikiText103,
});
