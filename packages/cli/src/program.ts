/**
 * The `sift` program (commander). Every command module exports `registerXCommand(program)`.
 * Experiments register themselves when their reproduction package is imported (experiments.ts).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { describeFileError } from '@sparse-ift/files';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerListCommand } from './commands/list.js';
import { registerReproduceCommand } from './commands/reproduce.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { logLine } from './output.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerDataCommand } from './commands/data.js';
import { registerEvaluateCommand } from './commands/evaluate.js';
import { loadExperiments } from './experiments.js';

/** This package's version, from its package.json (`../package.json` from both src/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export async function buildProgram(): Promise<Command> {
  for (const failure of await loadExperiments()) {
    logLine(`sift: warning: ${failure.packageName} could not be loaded, its experiments are unavailable: ${failure.message}`);
  }
  const program = new Command();
  program
    .name('sift')
    .description('Sparse Iso-FLOP Transformations (Sparse-IFT): reproduce the paper, inspect backends and data')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDoctorCommand(program);
  registerListCommand(program);
  registerReproduceCommand(program);
  registerPlanCommand(program);
  registerDataCommand(program);
  registerEvaluateCommand(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage mistakes with 1 → we use 2.
      if (error.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      logLine(`sift: ${error.message}`);
      return EXIT_USAGE;
    }
    // A full disk, a read-only or forbidden folder: one line naming the path and the fix, no stack.
    logLine(`sift: ${describeFileError(error) ?? (error as Error).message ?? String(error)}`);
    if (process.env['SIFT_DEBUG']) logLine((error as Error).stack ?? '');
    return EXIT_FAILURE;
  }
}
