// The pieces of @sparse-ift/core the trainer uses, imported in one place.
export {
  AdamW,
  NonFiniteLossError,
  SEED_STREAMS,
  SGD,
  collectMaskedParams,
  createMaskUpdater,
  decayOnlyMatrices,
  initMasks,
  rngFor,
  sparseTrainStep,
  type MaskUpdater,
  type MaskedParam,
  type SparseMethod,
  type OptimizerState,
  type SparseOptimizer,
  type UpdaterState,
} from '@sparse-ift/core';
