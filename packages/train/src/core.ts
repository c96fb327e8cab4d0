// The pieces of @sparse-ift/core the trainer uses, imported in one place.
// TEMPORARY: core's index.ts does not export its training modules yet; switch to '@sparse-ift/core'.
export { AdamW, SGD, decayOnlyMatrices, type OptimizerState, type SparseOptimizer } from '../../core/src/optimizers.js';
export { MaskUpdateSchedule } from '../../core/src/schedule.js';
export { RigLUpdater, SETUpdater, StaticUpdater, type MaskUpdater, type UpdaterState } from '../../core/src/updaters.js';
export { Rng } from '../../core/src/rng.js';
export { initMasks } from '../../core/src/mask-init.js';
export { sparseTrainStep } from '../../core/src/train-step.js';
export type { MaskedParam } from '@sparse-ift/core';
