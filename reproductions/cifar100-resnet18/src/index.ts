// @sparse-ift/repro-cifar100-resnet18: registers the `cifar100-resnet18` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { CIFAR100_RESNET18 } from './experiment.js';

export { CIFAR100_RESNET18 } from './experiment.js';
export { PRESETS, gridRows, resolveConfig, type CifarConfig, type CifarPreset, type CifarRow } from './presets.js';
export { familyTable, methodTable, detailTable, resultsMarkdown } from './report.js';
export { paperFamilyCell, paperMethodCell, PAPER_NOTES, type PaperCell } from './paper.js';
export { loadCifarData, missingDataError, DATA_CARD } from './data.js';
export { buildCifarNet, cifarTrainable, type CifarNet } from './model.js';

registerExperiment(CIFAR100_RESNET18);
