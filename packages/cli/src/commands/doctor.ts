import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, describeSparseKernels, initBackend, loadNativeAddon, tensorflowGpuPath, webgpuPath, type BackendInfo } from '@sparse-ift/backend';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_FILES } from '@sparse-ift/data-vision';
import { portablePaths } from '@sparse-ift/reproduce';
import { printJson, sayOnce } from '../output.js';
import { parseBackend, parseThreads } from '../options.js';

interface DataSetReport {
  name: string;
  found: boolean;
  /** Where it was found, or every place that was checked. */
  location?: string;
  checked: string[];
}

/** Where each data set `sift reproduce` uses would be loaded from, in the loaders' search order. */
export function findDataSets(dataDir?: string): DataSetReport[] {
  const candidates = [
    ...(dataDir ? [dataDir] : []),
    DEBIAN_FASHION_MNIST_DIR,
    join(homedir(), '.cache', 'sparse-ift', 'fashion-mnist'),
  ];
  const complete = (dir: string): boolean =>
    Object.values(FASHION_MNIST_FILES).every((name) => existsSync(join(dir, name)) || existsSync(join(dir, `${name}.gz`)));
  const location = candidates.find(complete);
  return [{ name: 'fashion-mnist', found: location !== undefined, location, checked: candidates }];
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('show the backend that training would use and why, every GPU path (WebGPU adapters, tfjs-node-gpu) with what is missing and the fix, threads, versions, and where data sets were found')
    .option('--backend <name>', `backend to try: auto, ${BACKEND_NAMES.join(', ')}`, 'auto')
    .option('--threads <n>', 'threads of the native kernels (default: every core)')
    .option('--data <dir>', 'folder to look in first for data set files')
    .option('--json', 'machine-readable output')
    .action(async (options: { backend: string; threads?: string; data?: string; json?: boolean }) => {
      const backendName = parseBackend(options.backend);
      const threads = parseThreads(options.threads);
      const tried: string[] = [];
      let backend: BackendInfo | undefined;
      let backendError: string | undefined;
      try {
        backend = await initBackend({ backend: backendName, training: true, allowCpuTraining: backendName === 'cpu', threads, log: (l) => tried.push(l) });
      } catch (error) {
        backendError = (error as Error).message;
      }
      const dataSets = findDataSets(options.data);
      const gpuPaths = [await webgpuPath(), await tensorflowGpuPath()];
      const report = {
        backend: backend ?? null,
        backendLine: backend ? describeBackend(backend) : null,
        backendError: backendError ?? null,
        tried,
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        gpuPaths,
        dataSets,
      };
      if (options.json) {
        printJson(report);
      } else {
        const lines: string[] = [];
        if (backend) {
          lines.push(describeBackend(backend), `  threads: ${backend.threads}`, `  versions: ${Object.entries(backend.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
          const c = backend.coverage;
          if (c) {
            lines.push(
              `  native kernels (${c.native.length}): ${c.native.join(', ')}; sharing their input's data: ${c.shared.join(', ')}`,
              `  every other kernel runs tfjs-backend-cpu's JavaScript on the same memory; results files list the kernels that ran, by route`,
              c.trainingFallbacks.length === 0
                ? `  the zoo's training steps: all ${c.trainingKernels} kernels native`
                : `  the zoo's training steps: ${c.trainingKernels - c.trainingFallbacks.length} of ${c.trainingKernels} kernels native; JavaScript: ${c.trainingFallbacks.join(', ')}`,
            );
            const addon = loadNativeAddon();
            if (addon.loaded) lines.push(`  ${describeSparseKernels(addon.addon)}`);
          }
          for (const u of backend.unavailable) lines.push(`  not used: ${u.backend}: ${u.why}`);
        } else {
          lines.push(`backend: none usable: ${backendError}`);
        }
        // What selection logged; sayOnce keeps only what the lines above do not say already (e.g. why the native kernels are off).
        for (const line of tried) lines.push(`  ${line}`);
        for (const p of gpuPaths) {
          lines.push(`gpu path ${p.path}: ${p.usable ? 'usable' : 'no GPU'}`, ...p.lines.map((l) => `  ${l}`), ...p.fixes.map((f) => `  fix: ${f}`));
        }
        for (const d of dataSets) {
          lines.push(d.found ? `data: ${d.name} found in ${d.location}` : `data: ${d.name} NOT found (checked ${d.checked.join(', ')}); sift reproduce will try to download it`);
        }
        for (const line of sayOnce(lines.map((l) => portablePaths(l)))) process.stdout.write(`${line}\n`);
      }
      if (!backend) process.exitCode = 1;
    });
}
