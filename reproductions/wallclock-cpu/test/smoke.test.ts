// The smoke preset end to end on the native backend: results.json / results.md / the plots written, every
// family × path row present with positive, finite times and ratios (their values are not asserted: speed is
// the benchmark's business), the machine recorded; and a backend other than native refused by name.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { describeBackend, initBackend, loadNativeAddon } from '@sparse-ift/backend';
import { getExperiment } from '@sparse-ift/reproduce';
import { medianSeconds, SPARSE_FAMILIES, type WallclockResults } from '../src/index.js';

const status = loadNativeAddon();
const NATIVE_BACKEND_BUILT = status.loaded && typeof status.addon.tensors === 'object';

function context(out: string, backend: Awaited<ReturnType<typeof initBackend>>) {
  return { preset: 'smoke', seeds: 1, outDir: out, resume: false, force: false, backend: { ...backend }, backendLine: describeBackend(backend), progress: false, log: () => {} };
}

describe('wallclock-cpu', () => {
  it('medianSeconds: the middle of the timed calls, after the warm-ups (on a fake clock)', () => {
    const durations = [50, 1, 9, 3, 7]; // one warm-up of 50 ms, then 1, 9, 3, 7 ms: the median is (3 + 7) / 2 ms
    let clock = 0;
    let call = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      expect(medianSeconds(() => void (clock += durations[call++]!), { warmup: 1, reps: 4 })).toBeCloseTo(0.005, 12);
      expect(call).toBe(5);
      call = 0;
      expect(medianSeconds(() => void (clock += durations[call++]!), { warmup: 1, reps: 3 })).toBeCloseTo(0.003, 12);
    } finally {
      now.mockRestore();
    }
  });

  it('refuses a backend other than native, naming what to do', async () => {
    const backend = await initBackend({ backend: 'wasm', training: true });
    const run = getExperiment('wallclock-cpu')!.run(context(mkdtempSync(join(tmpdir(), 'sift-wallclock-')), backend));
    await expect(run).rejects.toThrow(/backend in use is 'wasm'.*build:native.*--backend native/);
  });

  it.skipIf(!NATIVE_BACKEND_BUILT)('smoke preset: every row on every path, positive finite times, results files and plots', async () => {
    const backend = await initBackend({ backend: 'native', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-wallclock-'));
    const outcome = await getExperiment('wallclock-cpu')!.run(context(out, backend));
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as WallclockResults;
    expect(results.backend.name).toBe('native');
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(['avx512', 'avx2', 'none']).toContain(results.machine.isa);
    expect(results.models.map((m) => m.plan.model)).toEqual(['resnet-mini-cifar', 'gpt-nano']);
    for (const m of results.models) {
      // dense, then each family at s = 0.5 masked-dense and on the sparse kernels; no PyTorch in smoke.
      const paths = m.rows.map((r) => `${r.family}/${r.sparsity}/${r.path}`);
      expect(paths).toEqual(['dense/0/dense', ...SPARSE_FAMILIES.flatMap((f) => [`${f}/0.5/masked-dense`, `${f}/0.5/sparse-kernels`])]);
      expect(m.pytorchNote).toMatch(/does not time PyTorch/);
      for (const r of m.rows) {
        const times = [r.trainStepSeconds, r.trainRatio, ...r.inference.flatMap((t) => [t.seconds, t.ratio])];
        for (const t of times) {
          expect(Number.isFinite(t), `${m.plan.model} ${r.family} ${r.path}`).toBe(true);
          expect(t).toBeGreaterThan(0);
        }
        expect(r.inference.map((t) => t.batch)).toEqual([1, 4]);
      }
      expect(m.rows[0]!.trainRatio).toBe(1);
      expect(m.sparseLayers.total).toBeGreaterThan(0);
    }
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('| family | s | path | train step (batch 4) | ÷ dense | inference batch 1 | ÷ dense | inference batch 4 | ÷ dense |');
    expect(md).toContain('| Sparse Doped | 0.5 | sparse kernels (native, auto) |');
    expect(md).toContain('| Sparse Wide | 0.5 | masked-dense (native) |');
    expect(md).toMatch(/sparse kernels' ISA (avx512|avx2|none); \d+ threads/);
    const plot = readFileSync(outcome.files['plot-resnet-mini-cifar-train']!, 'utf8');
    expect(plot.startsWith('<svg')).toBe(true);
    for (const label of ['time ÷ dense', 'dense = 1', 'Sparse Factorized', 'masked-dense (native)']) expect(plot).toContain(label);
    expect(Object.keys(outcome.files).filter((k) => k.startsWith('plot-'))).toHaveLength(6);
  });
});
