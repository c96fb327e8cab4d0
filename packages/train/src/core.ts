// The pieces of @sparse-ift/core the trainer uses, imported in one place.
export {
  AdamW,
  MaskUpdateSchedule,
  NonFiniteLossError,
  RigLUpdater,
  Rng,
  SETUpdater,
  SGD,
  StaticUpdater,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
  type OptimizerState,
  type SparseOptimizer,
  type UpdaterState,
} from '@sparse-ift/core';
