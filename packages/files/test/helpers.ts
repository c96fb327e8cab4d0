// Real system errors for tests: a tiny tmpfs (full disk) and a read-only one, mounted where the test
// process may mount (root on Linux); the tests that need them skip themselves elsewhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sift-${prefix}-`));
}

/** Mounts a tmpfs of `sizeKiB` (read-only with `readOnly`) and returns its folder, or undefined when not allowed. */
export function mountTmpfs(sizeKiB: number, readOnly = false): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = tempDir('tmpfs');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k${readOnly ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

export function unmount(dir: string | undefined): void {
  if (dir === undefined) return;
  execFileSync('umount', [dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
