import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nonClobberingPath } from '../src/index.js';

describe('nonClobberingPath', () => {
  it('writes beside an existing file unless forced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-out-'));
    const file = join(dir, 'results.json');
    expect(nonClobberingPath(file, false)).toBe(file);
    writeFileSync(file, '{}');
    expect(nonClobberingPath(file, false)).toBe(join(dir, 'results-2.json'));
    writeFileSync(join(dir, 'results-2.json'), '{}');
    expect(nonClobberingPath(file, false)).toBe(join(dir, 'results-3.json'));
    expect(nonClobberingPath(file, true)).toBe(file);
  });
});
