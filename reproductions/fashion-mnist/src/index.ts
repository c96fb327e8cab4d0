// @sparse-ift/repro-fashion-mnist: registers the `fashion-mnist` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { FASHION_MNIST } from './experiment.js';

export { FASHION_MNIST } from './experiment.js';
export { markdownTable, resultsMarkdown } from './report.js';
export { buildNet, denseBudget, type ModelSpec, type FashionNet, type Architecture } from './model.js';
export { PRESETS, gridRows, resolveConfig, type FashionPreset, type FashionConfig } from './presets.js';
export { prepare, loadData } from './data.js';

registerExperiment(FASHION_MNIST);
