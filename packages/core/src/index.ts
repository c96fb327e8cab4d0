// @sparse-ift/core: the Sparse-IFT maths, FLOP accounting, sparse layers, masks and sparse training.
export * from './isoflop.js';
export * from './flops.js';
export * from './masked-param.js';
