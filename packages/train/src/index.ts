// @sparse-ift/train: the reusable trainer, recipes, schedules, checkpoints and TensorBoard files.
export * from './trainer.js';
export * from './model.js';
export * from './batches.js';
export * from './objectives.js';
export * from './recipes.js';
export * from './schedules.js';
export * from './loss.js';
export * from './checkpoint.js';
export * from './tensorboard.js';
export * from './layers-model.js';
export { epochPermutation } from './data-order.js';
export { createProgress, type Progress } from './progress.js';
// Raised (with the step and the kept checkpoint) when a loss is NaN or infinite.
export { NonFiniteLossError } from './core.js';
export { fittingMicroBatch, type DeviceMemoryLike, type MicroBatchChoice } from './micro-batch.js';
