// @sparse-ift/repro-cifar100-resnet18: registers the `cifar100-resnet18` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { runCifar100ResNet18 } from './experiment.js';
import { PRESETS } from './presets.js';

export { runCifar100ResNet18, type RunRecord } from './experiment.js';
export { PRESETS, gridRows, resolveConfig, type CifarConfig, type CifarPreset, type GridRow } from './presets.js';
export { summarise, familyTable, methodTable, resultsMarkdown, type RowSummary } from './report.js';
export { paperFamilyCell, paperMethodCell, PAPER_NOTES, type PaperCell } from './paper.js';
export { loadCifarData, missingDataError, DATA_CARD } from './data.js';
export { buildCifarNet, type CifarNet } from './model.js';

registerExperiment({
  name: 'cifar100-resnet18',
  description: 'Paper tables §5.1/§5.2: CIFAR-100 ResNet-18, dense vs Sparse Wide / Parallel / Factorized / Doped (RigL) at s = 0.5/0.75/0.9, and Sparse Wide static / SET / RigL',
  presets: Object.fromEntries(Object.entries(PRESETS).map(([name, p]) => [name, { description: p.description, defaultSeeds: p.defaultSeeds }])),
  defaultPreset: 'short',
  run: runCifar100ResNet18,
});
