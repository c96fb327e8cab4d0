// @sparse-ift/repro-fashion-mnist: registers the `fashion-mnist` experiment with the sift CLI on import.
import { registerExperiment } from '@sparse-ift/reproduce';
import { runFashionMnist } from './experiment.js';
import { PRESETS } from './presets.js';

export { runFashionMnist, summarise, markdownTable, type RunRecord, type RowSummary } from './experiment.js';
export { buildNet, denseBudget, type ModelSpec, type SparseIftNet, type Architecture } from './model.js';
export { PRESETS, gridRows, type FashionPreset, type GridRow } from './presets.js';
export { prepare, loadData } from './data.js';

registerExperiment({
  name: 'fashion-mnist',
  description: 'Dense vs Sparse Wide / Parallel / Factorized / Doped at equal FLOPs on Fashion-MNIST (RigL; SW also static and SET)',
  presets: Object.fromEntries(Object.entries(PRESETS).map(([name, p]) => [name, { description: p.description, defaultSeeds: p.defaultSeeds }])),
  defaultPreset: 'default',
  run: runFashionMnist,
});
