/**
 * Every file this project writes (checkpoints, finished-run records, results, plots, data caches) is
 * written atomically: into a temp file beside it, fsync'd, renamed over the final name, and the folder
 * fsync'd. POSIX rename within a file system is atomic, so a crash, a `kill -9` or a full disk at any
 * moment leaves the previous file or the complete new one, never a part. The temp file is named
 * `<file>.sift-tmp-<pid>`, so leftovers of a killed process can be recognised and removed.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeFileError, explainFileError } from './file-errors.js';

const TEMP_MARK = '.sift-tmp-';
/** Temp names of this package (`.sift-tmp-PID`) and of the checkpoint writer before it (`.tmp-PID`). */
const TEMP_NAME = /\.(?:sift-)?tmp-(\d+)$/;
/** Node writes at most 2 GiB per call; larger buffers go in pieces of this size. */
const WRITE_CHUNK = 1 << 30;

/** The temp file `file` is written through by this process. */
export function tempPathFor(file: string): string {
  return `${file}${TEMP_MARK}${process.pid}`;
}

/**
 * `mkdir -p`, one level at a time, failing with the first level's own error (EROFS, EACCES, …). Node's
 * recursive mkdir reports ENOENT where a disk is read-only, and loops forever where a parent cannot be
 * created but reports ENOENT (under /proc).
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
}

/** fsync a folder, so that a rename or a removal inside it survives a crash. */
export function fsyncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A file being written atomically: `open`, any number of `write`s, then `commit` (the final name now
 * holds exactly what was written) or `abort` (the temp file is removed, the final name untouched).
 * Errors are thrown as FileSystemError naming the final file and the fix (ENOSPC, EROFS, EACCES, …),
 * after the temp file is removed.
 */
export class AtomicFile {
  readonly tempFile: string;
  private fd: number;
  private written = 0;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.tempFile = tempPathFor(file);
    this.fd = fd;
  }

  static open(file: string): AtomicFile {
    try {
      makeFolder(dirname(file));
      return new AtomicFile(file, openSync(tempPathFor(file), 'w'));
    } catch (error) {
      throw explainFileError(error, file);
    }
  }

  /** Bytes written so far. */
  get size(): number {
    return this.written;
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      for (let at = 0; at < bytes.byteLength; ) {
        const piece = bytes.subarray(at, Math.min(bytes.byteLength, at + WRITE_CHUNK));
        at += writeSync(this.fd, piece);
      }
      this.written += bytes.byteLength;
    } catch (error) {
      this.abort();
      throw explainFileError(error, this.file);
    }
  }

  commit(): void {
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tempFile, this.file);
      fsyncFolder(dirname(this.file));
    } catch (error) {
      this.abort();
      throw explainFileError(error, this.file);
    }
  }

  abort(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed or never usable: the removal below is what matters
      }
      this.fd = -1;
    }
    rmSync(this.tempFile, { force: true });
  }
}

/** Writes `content` (text, bytes, or pieces of bytes) to `file` atomically; see AtomicFile. */
export function writeFileAtomic(file: string, content: string | Uint8Array | Iterable<Uint8Array>): void {
  const out = AtomicFile.open(file);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) out.write(content);
    else for (const piece of content) out.write(piece);
  } catch (error) {
    out.abort();
    throw error;
  }
  out.commit();
}

/** Whether process `pid` is running (a signal-0 probe; EPERM means it runs under another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temp files that killed processes left in `dir` (and, with `recursive`, its sub-folders):
 * names ending `.sift-tmp-PID` or `.tmp-PID` whose process no longer runs. A live process's temp file
 * is being written and is kept. Returns the files removed.
 */
export function removeLeftoverTemps(dir: string, options: { recursive?: boolean } = {}): string[] {
  const removed: string[] = [];
  if (!existsSync(dir)) return removed;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive) removed.push(...removeLeftoverTemps(path, options));
      continue;
    }
    const match = TEMP_NAME.exec(entry.name);
    if (match && !processAlive(Number(match[1]))) {
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}

/**
 * Why `dir` cannot take this process's files (a file in the way, a read-only or forbidden place), or
 * undefined when it can. Creates the folder (and its parents) when missing, and writes and removes a
 * probe file, so a command finds out before its first hour of work, not after.
 */
export function unwritableFolderReason(dir: string): string | undefined {
  if (existsSync(dir) && !statSync(dir).isDirectory()) return `${dir} is a file, not a folder`;
  const probe = join(dir, `.sift-probe${TEMP_MARK}${process.pid}`);
  try {
    makeFolder(dir);
    closeSync(openSync(probe, 'w'));
    rmSync(probe, { force: true });
    return undefined;
  } catch (error) {
    return describeFileError(error, dir, 'write into') ?? `cannot write into ${dir}: ${(error as Error).message}`;
  }
}
