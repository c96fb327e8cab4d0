// @sparse-ift/train: the reusable trainer, recipes, schedules, checkpoints, TensorBoard files and the
// experiment registry.
export * from './trainer.js';
export * from './recipes.js';
export * from './schedules.js';
export * from './loss.js';
export * from './checkpoint.js';
export * from './tensorboard.js';
export * from './experiments.js';
export * from './results-files.js';
export * from './run-state.js';
export * from './layers-model.js';
export * from './plot.js';
export * from './run-grid.js';
export * from './results-report.js';
export { epochPermutation } from './data-order.js';
export { createProgress, type Progress } from './progress.js';
// Raised (with the step and the kept checkpoint) when a loss is NaN or infinite.
export { NonFiniteLossError } from './core.js';
