// @sparse-ift/cli: the `sift` command line. `main(argv)` runs it and returns the exit code.
export { buildProgram, main, VERSION } from './program.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
export { findDataSets } from './commands/doctor.js';
