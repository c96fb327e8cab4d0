// The experiment state folder: refuses to reuse or discard an earlier run's state silently, and hands
// back finished runs only on --resume.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareStateDir } from '../src/index.js';

describe('prepareStateDir', () => {
  it('creates <out>/state/finished and names the checkpoint of a run', () => {
    const outDir = join(mkdtempSync(join(tmpdir(), 'sift-state-')), 'out');
    const state = prepareStateDir({ outDir, resume: false, force: false });
    expect(state.dir).toBe(join(outDir, 'state'));
    expect(existsSync(join(outDir, 'state', 'finished'))).toBe(true);
    expect(state.checkpointFile('run-a')).toBe(join(outDir, 'state', 'checkpoints', 'run-a.bin'));
    expect(state.finished('run-a')).toBeUndefined();
  });

  it('a second start needs --resume (reuses finished runs) or --force (discards them)', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'sift-state-'));
    prepareStateDir({ outDir, resume: false, force: false }).markFinished('run-a', { accuracy: 0.5 });
    expect(JSON.parse(readFileSync(join(outDir, 'state', 'finished', 'run-a.json'), 'utf8'))).toEqual({ accuracy: 0.5 });

    expect(() => prepareStateDir({ outDir, resume: false, force: false })).toThrow(/--resume.*--force.*--out/);

    const resumed = prepareStateDir({ outDir, resume: true, force: false });
    expect(resumed.finished<{ accuracy: number }>('run-a')).toEqual({ accuracy: 0.5 });
    expect(resumed.finished('run-b')).toBeUndefined();

    writeFileSync(join(outDir, 'state', 'finished', 'run-b.json'), '{}');
    const fresh = prepareStateDir({ outDir, resume: false, force: true });
    expect(fresh.finished('run-a')).toBeUndefined();
    expect(existsSync(join(outDir, 'state', 'finished', 'run-a.json'))).toBe(false);
    expect(existsSync(join(outDir, 'state', 'finished'))).toBe(true);
  });
});
