// Regular-file checks refuse FIFOs, folders and missing paths at once (a FIFO must never block).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRegularFile, notRegularFileReason, readFully } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('checkRegularFile', () => {
  it('accepts a file and names what anything else is', () => {
    const dir = tempDir('regular');
    writeFileSync(join(dir, 'f.bin'), 'abc');
    mkdirSync(join(dir, 'sub'));
    expect(checkRegularFile(join(dir, 'f.bin')).size).toBe(3);
    expect(notRegularFileReason(join(dir, 'sub'))).toBe('it is a folder, not a regular file');
    expect(notRegularFileReason(join(dir, 'missing'))).toBe('it does not exist');
    expect(() => checkRegularFile(join(dir, 'missing'), 'checkpoint')).toThrow(`checkpoint ${join(dir, 'missing')} cannot be read: it does not exist`);
  });

  it('refuses a FIFO without opening it (opening would block until a writer comes)', (ctx) => {
    if (process.platform === 'win32') return ctx.skip();
    const fifo = join(tempDir('regular'), 'pipe.idx');
    execFileSync('mkfifo', [fifo]);
    expect(() => checkRegularFile(fifo, 'IDX file')).toThrow(`IDX file ${fifo} cannot be read: it is a FIFO (named pipe), not a regular file`);
  });
});

describe('readFully', () => {
  it('reads a byte range and names a file that ends too early', () => {
    const file = join(tempDir('regular'), 'r.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 3, 4, 5]));
    const fd = openSync(file, 'r');
    try {
      const target = new Uint8Array(3);
      readFully(fd, target, 2, file);
      expect([...target]).toEqual([2, 3, 4]);
      expect(() => readFully(fd, new Uint8Array(4), 4, file)).toThrow(`${file} ended at byte 6, 2 bytes short; it is truncated`);
    } finally {
      closeSync(fd);
    }
  });
});
