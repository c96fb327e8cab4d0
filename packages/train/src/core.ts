// The pieces of @sparse-ift/core the trainer uses, imported in one place.
export {
  AdamW,
  NonFiniteLossError,
  Rng,
  SGD,
  collectMaskedParams,
  createMaskUpdater,
  decayOnlyMatrices,
  initMasks,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
  type SparseMethod,
  type OptimizerState,
  type SparseOptimizer,
  type UpdaterState,
} from '@sparse-ift/core';
