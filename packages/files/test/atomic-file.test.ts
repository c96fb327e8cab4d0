// Atomic writes: the final name holds the old file or the complete new one, whatever happens during the
// write (an exception, a full disk, a kill -9 of the writer); leftovers of dead writers are recognised.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFile, FileSystemError, describeFileError, processAlive, removeLeftoverTemps, tempPathFor, unwritableFolderReason, writeFileAtomic } from '../src/index.js';
import { mountTmpfs, tempDir, unmount } from './helpers.js';

describe('writeFileAtomic', () => {
  it('writes text, bytes and pieces, creating the folder, leaving no temp file', () => {
    const dir = tempDir('atomic');
    writeFileAtomic(join(dir, 'a', 'text.json'), '{"x": 1}\n');
    writeFileAtomic(join(dir, 'a', 'bytes.bin'), new Uint8Array([1, 2, 3]));
    writeFileAtomic(join(dir, 'a', 'pieces.bin'), [new Uint8Array([4]), new Uint8Array([5, 6])]);
    expect(readFileSync(join(dir, 'a', 'text.json'), 'utf8')).toBe('{"x": 1}\n');
    expect([...readFileSync(join(dir, 'a', 'bytes.bin'))]).toEqual([1, 2, 3]);
    expect([...readFileSync(join(dir, 'a', 'pieces.bin'))]).toEqual([4, 5, 6]);
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['bytes.bin', 'pieces.bin', 'text.json']);
  });

  it('an exception while the pieces are produced leaves the old file and no temp file', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'results.json');
    writeFileSync(file, 'old');
    function* pieces(): Generator<Uint8Array> {
      yield new Uint8Array([1]);
      throw new Error('producer failed');
    }
    expect(() => writeFileAtomic(file, pieces())).toThrow('producer failed');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('abort() removes the temp file and keeps the final name untouched', () => {
    const dir = tempDir('atomic');
    const out = AtomicFile.open(join(dir, 'x.bin'));
    out.write('partial');
    expect(existsSync(out.tempFile)).toBe(true);
    out.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('system errors become one line naming the path and the fix', () => {
  const mounts: (string | undefined)[] = [];
  afterAll(() => mounts.forEach(unmount));

  it('explains ENOSPC, EROFS, EACCES; leaves other errors alone', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: raw`), { code, path: '/x/y.tmp' });
    expect(describeFileError(err('ENOSPC'), '/x/y')).toBe('cannot write /x/y: no space left on the device (ENOSPC); free some space on that disk or write somewhere else');
    expect(describeFileError(err('EROFS'))).toBe('cannot write /x/y.tmp: the file system is read-only (EROFS); write to a folder on a writable disk');
    expect(describeFileError(err('EACCES'), '/x', 'create')).toMatch(/^cannot create \/x: permission denied \(EACCES\); fix the permissions/);
    expect(describeFileError(new Error('plain'))).toBeUndefined();
    expect(describeFileError(err('ENOENT'))).toBeUndefined();
  });

  it('a full disk (a 64 KiB tmpfs): FileSystemError naming the final file, old file kept, no temp left', (ctx) => {
    const dir = mountTmpfs(64);
    mounts.push(dir);
    if (!dir) return ctx.skip();
    const file = join(dir, 'results.json');
    writeFileSync(file, 'old');
    let thrown: unknown;
    try {
      writeFileAtomic(file, Buffer.alloc(1 << 20, 1));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FileSystemError);
    expect((thrown as Error).message).toBe(`cannot write ${file}: no space left on the device (ENOSPC); free some space on that disk or write somewhere else`);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('a read-only file system (a read-only tmpfs): EROFS naming the file', (ctx) => {
    const dir = mountTmpfs(64, true);
    mounts.push(dir);
    if (!dir) return ctx.skip();
    expect(() => writeFileAtomic(join(dir, 'plot.svg'), '<svg/>')).toThrow(`cannot write ${join(dir, 'plot.svg')}: the file system is read-only (EROFS)`);
  });

  it('unwritableFolderReason: creates a usable folder, names a file in the way and a read-only disk (not ENOENT)', (ctx) => {
    const dir = tempDir('atomic');
    expect(unwritableFolderReason(join(dir, 'a', 'b'))).toBeUndefined();
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual([]); // the probe is gone
    writeFileSync(join(dir, 'f'), 'x');
    expect(unwritableFolderReason(join(dir, 'f'))).toBe(`${join(dir, 'f')} is a file, not a folder`);
    // Node's recursive mkdir never returns here (procfs answers ENOENT for the parent); ours stops at it.
    if (process.platform === 'linux') expect(unwritableFolderReason('/proc/sift-x/y')).toBe("cannot write into /proc/sift-x/y: ENOENT: no such file or directory, mkdir '/proc/sift-x'");
    const ro = mountTmpfs(64, true);
    mounts.push(ro);
    if (!ro) return ctx.skip();
    expect(unwritableFolderReason(join(ro, 'x', 'y'))).toBe(`cannot write into ${join(ro, 'x', 'y')}: the file system is read-only (EROFS); write to a folder on a writable disk`);
  });

  it('a folder without write permission: EACCES naming the file (not as root, which may write anywhere)', (ctx) => {
    if (process.getuid?.() === 0) return ctx.skip();
    const dir = tempDir('atomic');
    mkdirSync(join(dir, 'locked'));
    chmodSync(join(dir, 'locked'), 0o555);
    expect(() => writeFileAtomic(join(dir, 'locked', 'r.json'), '{}')).toThrow(/cannot write .*locked\/r\.json: permission denied \(EACCES\)/);
  });
});

describe('kill -9 during a write', () => {
  it('leaves the previous file whole; the dead writer’s temp file is removed on the next start, a live one’s kept', async () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'ckpt.bin');
    writeFileSync(file, 'previous');
    // A writer in another process that has written part of the new file and then hangs.
    const script = `
      import { AtomicFile } from ${JSON.stringify(resolve(import.meta.dirname, '../src/index.ts'))};
      const out = AtomicFile.open(${JSON.stringify(file)});
      out.write(Buffer.alloc(1 << 20, 7));
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('written') && done());
      child.on('exit', (code) => fail(new Error(`writer exited early (${code})`)));
    });
    const temp = join(dir, `ckpt.bin.sift-tmp-${child.pid}`);
    expect(existsSync(temp)).toBe(true);
    expect(removeLeftoverTemps(dir)).toEqual([]); // the writer still runs: its temp file is kept
    child.kill('SIGKILL');
    await new Promise((done) => child.on('exit', done));
    expect(processAlive(child.pid!)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(removeLeftoverTemps(dir)).toEqual([temp]);
    expect(readdirSync(dir)).toEqual(['ckpt.bin']);
  });

  it('removes the older `.tmp-PID` leftovers of dead processes too, recursively when asked', () => {
    const dir = tempDir('atomic');
    mkdirSync(join(dir, 'checkpoints'));
    const dead = 2 ** 22 + 12345; // above Linux's pid_max default, so no process has it
    writeFileSync(join(dir, 'checkpoints', `run.bin.tmp-${dead}`), 'x');
    writeFileSync(join(dir, `record.json.sift-tmp-${dead}`), 'x');
    writeFileSync(tempPathFor(join(dir, 'mine.json')), 'being written by this process');
    writeFileSync(join(dir, 'notes.tmp-draft'), 'not a temp name');
    expect(removeLeftoverTemps(dir)).toEqual([join(dir, `record.json.sift-tmp-${dead}`)]);
    expect(removeLeftoverTemps(dir, { recursive: true })).toEqual([join(dir, 'checkpoints', `run.bin.tmp-${dead}`)]);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', `mine.json.sift-tmp-${process.pid}`, 'notes.tmp-draft']);
  });
});
