// @sparse-ift/repro-imagenet-resnet: registers the `imagenet-resnet` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { IMAGENET_RESNET } from './experiment.js';

export { IMAGENET_RESNET } from './experiment.js';
export { PRESETS, gridRows, resolveConfig, type ImageNetConfig, type ImageNetPreset, type ImageNetRow } from './presets.js';
export { paperImageNetCell, PAPER_NOTES, type ImageNetModel, type PaperCell } from './paper.js';
export { findImageNetShards, decodeIntoMemory, countTrainImages, loadImageNet, missingDataError, DATA_CARD, type ImageNetData, type ImageNetShards } from './data.js';
export { buildImageNetNet, imageNetTrainable, type ImageNetNet } from './model.js';
export { trainFromStream } from './stream-train.js';
export { resultsMarkdown } from './report.js';

registerExperiment(IMAGENET_RESNET);
