// @sparse-ift/repro-imagenet-resnet: registers the `imagenet-resnet` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { runImageNetResNet } from './experiment.js';
import { PRESETS } from './presets.js';

export { runImageNetResNet, type ImageNetRunRecord } from './experiment.js';
export { PRESETS, gridRows, resolveConfig, type ImageNetConfig, type ImageNetPreset, type ImageNetRow } from './presets.js';
export { paperImageNetCell, PAPER_NOTES, type ImageNetModel, type PaperCell } from './paper.js';
export { findImageNetShards, decodeIntoMemory, missingDataError, DATA_CARD, type ImageNetShards } from './data.js';
export { buildImageNetNet, type ImageNetNet } from './model.js';
export { trainFromStream, countTrainImages, type StreamTrainResult, type StreamEpoch } from './stream-train.js';
export { resultsMarkdown } from './report.js';

registerExperiment({
  name: 'imagenet-resnet',
  description: 'Paper §5.3: ImageNet ResNet-18 (dense, Sparse Wide, Sparse Parallel) and ResNet-34 (dense, Sparse Wide) at s = 0.5/0.75/0.9 with RigL',
  presets: Object.fromEntries(Object.entries(PRESETS).map(([name, p]) => [name, { description: p.description, defaultSeeds: p.defaultSeeds }])),
  defaultPreset: 'short',
  run: runImageNetResNet,
});
