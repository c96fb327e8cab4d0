// The smoke preset end to end on real Fashion-MNIST: files written and parsable, accuracy above chance.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { getExperiment, type RunRecord } from '@sparse-ift/reproduce';
import '../src/index.js';

describe('fashion-mnist smoke preset', () => {
  it('trains every row, writes results.json / results.md / the SVG plot, and beats chance', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-fmnist-'));
    const experiment = getExperiment('fashion-mnist')!;
    const outcome = await experiment.run({
      preset: 'smoke',
      seeds: 1,
      outDir: out,
      resume: false,
      force: false,
      backend: { ...backend },
      backendLine: describeBackend(backend),
      progress: false,
      log: () => {},
    });
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord[]; backend: { name: string } };
    // dense + 4 families with RigL + Sparse Wide static and SET, at s = 0.5, one seed.
    expect(results.runs).toHaveLength(7);
    expect(results.backend.name).toBe('wasm');
    for (const run of results.runs) {
      expect(run.test['accuracy']).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
      // Iso-FLOP: every family within a few percent of the dense model's forward FLOPs.
      expect(run.flopRatio).toBeGreaterThan(0.9);
      expect(run.flopRatio).toBeLessThan(1.1);
      if (run.family !== 'dense' && run.method !== 'static') {
        // RigL/SET make the mask counts exact at their first update (docs/sparse-training.md#rigl): density 1 − s.
        expect(run.realisedDensity).toBeCloseTo(1 - run.maskSparsity, 2);
      }
    }
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('| Sparse Parallel | 0.5 | rigl |');
    const svg = readFileSync(outcome.files['plot']!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Sparse Wide (rigl)');

    // A second run into the same --out refuses to discard the checkpoints without --resume/--force …
    await expect(experiment.run({ ...baseContext(out, backend), resume: false, force: false })).rejects.toThrow(/--resume.*--force/);
    // … and with --resume reuses the finished runs and writes results beside the first ones.
    const again = await experiment.run({ ...baseContext(out, backend), resume: true, force: false });
    expect(again.files['results.json']).toBe(join(out, 'results-2.json'));
    expect(existsSync(join(out, 'results.json'))).toBe(true);
  });
});

function baseContext(out: string, backend: Awaited<ReturnType<typeof initBackend>>) {
  return { preset: 'smoke', seeds: 1, outDir: out, backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} };
}
