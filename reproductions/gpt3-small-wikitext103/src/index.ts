// @sparse-ift/repro-gpt3-small-wikitext103: registers the `gpt3-small-wikitext103` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { GPT3_SMALL_WIKITEXT103 } from './experiment.js';

export { GPT3_SMALL_WIKITEXT103 } from './experiment.js';
export { PRESETS, ROWS, GPT_NANO_BPE, resolveConfig, resolveMicroBatch, trainConfig, type GptPreset, type GptExperimentConfig } from './presets.js';
export { gptTrainable } from './model.js';
export { resultsMarkdown, PAPER_GPT } from './report.js';
export { loadWikiText, missingDataError, wikiTextBatches, DATA_CARD, type WikiText } from './data.js';

registerExperiment(GPT3_SMALL_WIKITEXT103);
