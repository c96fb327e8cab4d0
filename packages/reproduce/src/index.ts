// @sparse-ift/reproduce: what every paper reproduction shares around the trainer: the experiment
// registry the `sift` CLI runs, the (seed × row) run grid, the state folder, results files and reports,
// and the accuracy plot.
export * from './experiments.js';
export * from './results-files.js';
export * from './run-state.js';
export * from './plot.js';
export * from './run-grid.js';
export * from './results-report.js';
export * from './run-record.js';
export * from './reproduction.js';
