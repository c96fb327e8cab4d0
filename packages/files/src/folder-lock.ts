/**
 * One writer per folder: a lock file holding the owner's PID, host, start time and command. It is
 * created atomically with its content (written to a temp file, then hard-linked to the lock name, which
 * fails if the lock exists), so a lock is never seen half-written. A lock whose process no longer runs
 * on this host is stale (a `kill -9`, a crash, Ctrl-C) and is taken over; a live one is refused, naming
 * the process, whatever the caller's flags.
 */
import { linkSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive, tempPathFor, writeFileAtomic } from './atomic-file.js';
import { explainFileError } from './file-errors.js';

/** The lock file's name inside the locked folder. */
export const LOCK_FILE = '.sift-lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** The owner's command line, for the message another process shows. */
  command: string;
}

export interface FolderLock {
  readonly file: string;
  /** The stale lock this one replaced, if any (its owner had died). */
  readonly replaced?: LockOwner;
  /** Removes the lock if it is still this process's. Also done at process exit. */
  release(): void;
}

/** A live lock another process holds: the message names the folder, the owner and what to do. */
export class FolderLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | undefined,
    lockFile: string,
  ) {
    super(
      owner
        ? `${dir} is being written by process ${owner.pid} on ${owner.host} (since ${owner.startedAt}: ${owner.command}); ` +
            `wait for it to finish or stop it, or choose another folder. If no such process runs, delete ${lockFile}`
        : `${dir} is locked by ${lockFile}, which cannot be read; if no sift process writes there, delete it`,
    );
    this.name = 'FolderLockedError';
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') {
      return { pid: owner.pid, host: owner.host, startedAt: String(owner.startedAt), command: String(owner.command) };
    }
  } catch {
    // unreadable or not JSON: reported as an unreadable lock
  }
  return undefined;
}

const held = new Set<string>();
process.on('exit', () => {
  for (const file of held) {
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
  }
});

/**
 * Takes `dir`'s lock (creating nothing else). Throws FolderLockedError when a live process on this host,
 * or any process on another host, holds it. This process may take its own lock again (re-entrant).
 */
export function lockFolder(dir: string): FolderLock {
  const file = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  let replaced: LockOwner | undefined;
  for (let attempt = 0; ; attempt++) {
    const temp = tempPathFor(file);
    writeFileAtomic(temp, JSON.stringify(me));
    try {
      linkSync(temp, file);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw explainFileError(error, file);
      const owner = readOwner(file);
      const mine = owner?.pid === process.pid && owner.host === me.host;
      const stale = owner !== undefined && owner.host === me.host && !processAlive(owner.pid);
      if (!(mine || stale) || attempt > 0) throw new FolderLockedError(dir, owner, file);
      if (stale) replaced = owner;
      rmSync(file, { force: true });
    } finally {
      rmSync(temp, { force: true });
    }
  }
  held.add(file);
  return {
    file,
    ...(replaced ? { replaced } : {}),
    release() {
      if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
      held.delete(file);
    },
  };
}
