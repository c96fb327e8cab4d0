/**
 * Reading the files a user points at: refuse what is not a regular file at once (a FIFO would block a
 * reader forever, a folder or device gives raw EISDIR/EINVAL errors), and read byte ranges of files
 * of any size (Node reads at most 2 GiB per call, and a whole-file read is capped there too).
 */
import { readSync, statSync, type Stats } from 'node:fs';

const READ_CHUNK = 1 << 30;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Why `path` cannot be read as a regular file (missing, a FIFO, a folder, …), or undefined when it can. */
export function notRegularFileReason(path: string): string | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code ?? (error as Error).message})`;
  }
  return stats.isFile() ? undefined : `it is ${kindOf(stats)}, not a regular file`;
}

/**
 * The stats of `path` when it is a regular file; otherwise throws at once (without opening it, so a
 * FIFO never blocks) naming `what` and `path`.
 */
export function checkRegularFile(path: string, what = 'file'): Stats {
  const reason = notRegularFileReason(path);
  if (reason !== undefined) throw new Error(`${what} ${path} cannot be read: ${reason}`);
  return statSync(path);
}

/**
 * Fills `target` from `fd` starting at byte `position`, in pieces of at most 1 GiB; throws naming `file`
 * when the file ends first.
 */
export function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  for (let at = 0; at < target.byteLength; ) {
    const want = Math.min(READ_CHUNK, target.byteLength - at);
    const got = readSync(fd, target, at, want, position + at);
    if (got === 0) throw new Error(`${file} ended at byte ${position + at}, ${target.byteLength - at} bytes short; it is truncated`);
    at += got;
  }
}
