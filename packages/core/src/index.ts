// @sparse-ift/core: the Sparse-IFT maths, FLOP accounting, sparse layers, masks and sparse training.
// The maths (one place every width, rank and FLOP count comes from)
export * from './isoflop.js';
export * from './flops.js';
export * from './family-block.js';
// Sparse layers and the mask contract
export * from './masked-param.js';
export * from './layers/index.js';
export * from './ops/batch-norm.js';
export * from './ops/gelu.js';
export * from './ops/layer-norm.js';
export * from './ops/philox.js';
export * from './ops/dropout.js';
export * from './ops/mask-select.js';
export * from './ops/masked.js';
export * from './ops/optimizer-update.js';
// Masks and sparse training
export * from './rng.js';
export * from './distribution.js';
export * from './mask-init.js';
export * from './schedule.js';
export * from './updaters.js';
export * from './optimizers.js';
export * from './train-step.js';
export * from './finite-guard.js';
export * from './mask-update-device.js';
export * from './callbacks/sparse-training.js';
// Saving and loading models (file:// without tfjs-node) and exporting trained ones
export * from './io/file-system.js';
export * from './io/export.js';
export * from './report.js';
// Model registry and whole-model FLOP audit
export * from './registry.js';
export * from './model-flops.js';
