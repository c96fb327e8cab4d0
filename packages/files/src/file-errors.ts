/**
 * System errors on files (a full disk, a read-only or forbidden folder, …) as one line that names the
 * path and says what to do, instead of Node's `EROFS: read-only file system, open '…'` and a stack.
 */

/** What each system error code means for the user, and the fix. */
const EXPLAINED: Record<string, { what: string; fix: string }> = {
  ENOSPC: { what: 'no space left on the device', fix: 'free some space on that disk or write somewhere else' },
  EDQUOT: { what: 'the disk quota is used up', fix: 'free some space or write somewhere else' },
  EROFS: { what: 'the file system is read-only', fix: 'write to a folder on a writable disk' },
  EACCES: { what: 'permission denied', fix: 'fix the permissions (ls -ld) or use a folder you own' },
  EPERM: { what: 'operation not permitted', fix: 'fix the permissions (ls -ld) or use a folder you own' },
  ENOTDIR: { what: 'a part of the path is a file, not a folder', fix: 'pass a path whose folders are folders' },
  EISDIR: { what: 'it is a folder where a file was expected', fix: 'pass the file, or remove the folder' },
  ENAMETOOLONG: { what: 'the path is too long', fix: 'use a shorter path' },
  EMFILE: { what: 'too many open files', fix: 'raise the limit (ulimit -n) or use fewer workers' },
  ENFILE: { what: 'too many open files on the system', fix: 'close other programs or raise the system limit' },
  EIO: { what: 'an input/output error from the disk', fix: 'check the disk (dmesg) and copy the data elsewhere' },
};

/** Error codes `describeFileError` explains. */
export const EXPLAINED_FILE_ERRORS: readonly string[] = Object.keys(EXPLAINED);

/** A system error on a file, with a one-line message naming the path and the fix. `cause` is Node's error. */
export class FileSystemError extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FileSystemError';
  }
}

function systemCode(error: unknown): { code: string; path?: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, path } = error as { code?: unknown; path?: unknown };
  if (typeof code !== 'string' || !(code in EXPLAINED)) return undefined;
  return { code, path: typeof path === 'string' ? path : undefined };
}

/**
 * One line for a system error on a file (`cannot write /x/results.json: no space left on the device
 * (ENOSPC); free some space …`), or undefined when `error` is not one `EXPLAINED_FILE_ERRORS` lists.
 * `path` overrides the error's own (e.g. the final name instead of its temp file); `action` is the verb.
 */
export function describeFileError(error: unknown, path?: string, action = 'write'): string | undefined {
  const found = systemCode(error);
  if (!found) return undefined;
  const { what, fix } = EXPLAINED[found.code]!;
  const where = path ?? found.path;
  return `cannot ${action} ${where ?? 'a file'}: ${what} (${found.code}); ${fix}`;
}

/** `error` as a FileSystemError when it is an explained system error, else `error` unchanged. */
export function explainFileError(error: unknown, path?: string, action = 'write'): unknown {
  if (error instanceof FileSystemError) return error;
  const line = describeFileError(error, path, action);
  if (line === undefined) return error;
  const found = systemCode(error)!;
  return new FileSystemError(found.code, path ?? found.path ?? '', line, { cause: error });
}
