// What results.md says about runs that did not learn, and that result files are written atomically.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notLearningNote, writeResultFile } from '../src/index.js';

describe('notLearningNote', () => {
  it('is empty when every run learned', () => {
    expect(notLearningNote([{ id: 'a', history: [{ epoch: 0 }] }, { id: 'b', history: [{ epoch: 0, atChance: false }] }])).toBe('');
  });

  it('names each run that stayed at chance and its epochs (1-based), loudly', () => {
    const stuck = { id: 'mlp-sparse-doped-s0.9-rigl-seed1', history: [0, 1, 2].map((epoch) => ({ epoch, atChance: true })) };
    expect(notLearningNote([{ id: 'mlp-dense-seed0', history: [{ epoch: 0 }] }, stuck])).toBe(
      [
        "**WARNING: 1 run did not learn**: the training loss stayed at chance (ln C), so its score is a guess's and the row means include it. Rerun with an LR warm-up or a lower rate.",
        '',
        '- `mlp-sparse-doped-s0.9-rigl-seed1`: epochs 1, 2, 3',
        '',
      ].join('\n'),
    );
  });
});

describe('writeResultFile', () => {
  it('writes beside an earlier file, atomically (no temp file left), and records the path', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'sift-results-'));
    const files: Record<string, string> = {};
    writeResultFile({ outDir, force: false }, files, 'results.md', 'results.md', 'one');
    writeResultFile({ outDir, force: false }, files, 'results.md', 'results.md', 'two');
    expect(files['results.md']).toBe(join(outDir, 'results-2.md'));
    expect(readFileSync(join(outDir, 'results-2.md'), 'utf8')).toBe('two');
    expect(readdirSync(outDir).sort()).toEqual(['results-2.md', 'results.md']);
  });
});
