// Runs the CLI in-process through `main(argv)` (the same code as the bin), capturing stdout and stderr.
import { vi } from 'vitest';
import { main } from '../src/index.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function sift(...args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    process.exitCode = undefined;
    const code = await main(['node', 'sift', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
