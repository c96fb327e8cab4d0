import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, initBackend, tensorflowGpuPath, webgpuPath, type BackendInfo } from '@sparse-ift/backend';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_FILES } from '@sparse-ift/data-vision';
import { printJson } from '../output.js';
import { parseBackend } from '../options.js';

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
    .option('--data <dir>', 'folder to look in first for data set files')
    .option('--json', 'machine-readable output')
    .action(async (options: { backend: string; data?: string; json?: boolean }) => {
      const backendName = parseBackend(options.backend);
      const tried: string[] = [];
      let backend: BackendInfo | undefined;
      let backendError: string | undefined;
      try {
        backend = await initBackend({ backend: backendName, training: true, allowCpuTraining: backendName === 'cpu', log: (l) => tried.push(l) });
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
        const out = (l: string): boolean => process.stdout.write(`${l}\n`);
        out(backend ? describeBackend(backend) : `backend: none usable: ${backendError}`);
        if (backend) {
          out(`  chosen: ${backend.name} because ${backend.reason}`);
          out(`  threads: ${backend.threads}`);
          out(`  versions: ${Object.entries(backend.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        }
        for (const line of tried) out(`  tried: ${line}`);
        for (const p of gpuPaths) {
          out(`gpu path ${p.path}: ${p.usable ? 'usable' : 'no GPU'}`);
          for (const line of p.lines) out(`  ${line}`);
          for (const fix of p.fixes) out(`  fix: ${fix}`);
        }
        for (const d of dataSets) {
          out(d.found ? `data: ${d.name} found in ${d.location}` : `data: ${d.name} NOT found (checked ${d.checked.join(', ')}); sift reproduce will try to download it`);
        }
      }
      if (!backend) process.exitCode = 1;
    });
}
