/**
 * PyTorch beside our numbers: the masked-dense twins of tools/bench/torch_models.py (the benchmark's
 * ResNet-18 and GPT in PyTorch, timed the same way), run in a child process by Debian's python3-torch.
 * The script is the repository's: an installed copy of this package without the repository skips PyTorch
 * and says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** tools/bench/torch_models.py of the repository this package sits in (src/ and dist/ are both two levels down). */
export const TORCH_TWIN_SCRIPT = fileURLToPath(new URL('../../../tools/bench/torch_models.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** One model for the twin script to time; the fields besides key and model are the script's (width, batch, sparsity, …). */
export interface TorchJob {
  key: string;
  model: 'resnet18' | 'gpt';
  [field: string]: unknown;
}

export interface TorchRun {
  version: string;
  threads: number;
  /** Median seconds per job key (and `<key>-inference-b<batch>` where a job asked for inference). */
  results: Record<string, number>;
  peakRssMB: Record<string, number>;
}

/** Why PyTorch cannot run here, or undefined when it can. */
export function pytorchUnavailable(script = TORCH_TWIN_SCRIPT): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(script)) return `the PyTorch twin script ${script} is not here (run from a clone of the repository)`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return 'python3 cannot import torch (apt install python3-torch)';
  }
  return undefined;
}

/** Runs the twin script on `threads` threads (0: PyTorch's default); a string says why it was skipped. */
export function runTorchTwins(threads: number, jobs: readonly TorchJob[], script = TORCH_TWIN_SCRIPT): TorchRun | string {
  const why = pytorchUnavailable(script);
  if (why) return `skipped: ${why}`;
  const out = execFileSync(PYTHON, [script, String(threads), JSON.stringify(jobs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const parsed = JSON.parse(out.trim().split('\n').pop()!) as { torch: string; threads: number; results: Record<string, number>; peakRssMB: Record<string, number> };
  return { version: parsed.torch, threads: parsed.threads, results: parsed.results, peakRssMB: parsed.peakRssMB };
}
