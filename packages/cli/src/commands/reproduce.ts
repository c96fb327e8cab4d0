import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, initBackend, sparseKernelReport } from '@sparse-ift/backend';
import { unwritableFolderReason } from '@sparse-ift/files';
import { getExperiment, listExperiments } from '@sparse-ift/reproduce';
import { UsageError } from '../errors.js';
import { logLine, printJson } from '../output.js';
import { MAX_SEEDS, parseBackend, parseSeeds, parseThreads } from '../options.js';

interface ReproduceOptions {
  preset?: string;
  seeds?: string;
  out?: string;
  resume?: boolean;
  force?: boolean;
  backend: string;
  threads?: string;
  data?: string;
  json?: boolean;
}

export function registerReproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description('run an experiment (see `sift list`) and write results.json, results.md and a plot into --out')
    .argument('<experiment>', 'experiment name, e.g. fashion-mnist')
    .option('--preset <name>', "preset of the experiment (default: the experiment's default)")
    .option('--seeds <n>', `number of seeds, 1 to ${MAX_SEEDS} (default: the preset's)`)
    .option('--out <dir>', 'output folder (default: runs/<experiment>-<preset>)')
    .option('--resume', 'continue an interrupted run in --out from its checkpoints')
    .option('--force', 'overwrite earlier results and discard earlier checkpoints in --out')
    .option('--backend <name>', `tf.js backend: auto, ${BACKEND_NAMES.join(', ')}`, 'auto')
    .option('--threads <n>', 'threads of the native kernels (default: every core)')
    .option('--data <dir>', 'folder holding the data set files (checked before the system copy and the download)')
    .option('--json', 'print a machine-readable summary on stdout (no progress bar)')
    .action(async (name: string, options: ReproduceOptions) => {
      const experiment = getExperiment(name);
      if (!experiment) {
        throw new UsageError(`unknown experiment '${name}'; valid experiments: ${listExperiments().map((e) => e.name).join(', ') || '(none registered)'}`);
      }
      const preset = options.preset ?? experiment.defaultPreset;
      const presetInfo = experiment.presets[preset];
      if (!presetInfo) {
        throw new UsageError(`unknown preset '${preset}' for ${name}; valid presets: ${Object.keys(experiment.presets).join(', ')}`);
      }
      const seeds = parseSeeds(options.seeds) ?? presetInfo.defaultSeeds;
      const backendName = parseBackend(options.backend);
      const threads = parseThreads(options.threads);
      if (options.resume && options.force) throw new UsageError('--resume and --force contradict each other; pass one of them');
      if (options.data !== undefined && !(existsSync(options.data) && statSync(options.data).isDirectory())) {
        throw new UsageError(`--data '${options.data}' is not a folder; pass the folder that holds the data set files`);
      }
      if (options.out !== undefined && options.out.trim() === '') {
        throw new UsageError(`--out '${options.out}' is empty; pass the folder for results and checkpoints (default: runs/${name}-${preset})`);
      }
      const outDir = resolve(options.out ?? `runs/${name}-${preset}`);
      // Before the backend and the data: a folder that cannot take the results would waste the whole run.
      const unwritable = unwritableFolderReason(outDir);
      if (unwritable !== undefined) throw new UsageError(`--out ${outDir}: ${unwritable}`);

      const backend = await initBackend({ backend: backendName, training: true, allowCpuTraining: backendName === 'cpu', threads, log: logLine });
      const backendLine = describeBackend(backend);
      logLine(backendLine);
      logLine(`reproduce ${name} --preset ${preset} --seeds ${seeds} → ${outDir}`);
      const outcome = await experiment.run({
        preset,
        seeds,
        outDir,
        resume: options.resume ?? false,
        force: options.force ?? false,
        dataDir: options.data,
        // Written with the results (toJSON at write time, as the provenance): which masked layer shapes ran on
        // the sparse kernels and which dense (native backend).
        backend: { ...backend, ...(backend.name === 'native' ? { sparseKernels: { toJSON: sparseKernelReport } } : {}) },
        backendLine,
        progress: !options.json && process.stderr.isTTY === true,
        log: logLine,
      });
      if (options.json) {
        printJson({ ...(outcome.summary as object), backend, files: outcome.files });
      } else {
        process.stdout.write(`\n${outcome.table}\n\n`);
        for (const [role, file] of Object.entries(outcome.files)) process.stdout.write(`${role}: ${file}\n`);
      }
    });
}
