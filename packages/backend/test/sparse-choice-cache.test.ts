// The persisted sparse-vs-dense choice of the native masked products: where the file lives
// (SIFT_SPARSE_CACHE, XDG_CACHE_HOME, ~/.cache), that a second process takes the first one's choices without
// timing (it follows a file edited by hand, times included), that a corrupt or foreign file costs one warning
// and a fresh measurement and is kept aside, that `off` writes nothing, that RigL-sized density changes keep a
// choice, and that two trainings in two processes give bit-identical losses while the two paths forced
// differ by rounding (so the identity is the cache's doing, not a coincidence).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maskedConv2d } from '@sparse-ift/core';
import {
  SparseChoiceCache, densityBucket, forgetCacheWarnings, resetSparseChoices, setSparseMode, sparseChoiceCacheFile, sparseKernelReport,
  sparseMode, type SparseLayerReport, type SparseMachine, type SparseMode,
} from '@sparse-ift/backend';
import { NATIVE_BACKEND_BUILT, randn, rng, useBackend } from './helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sift-choice-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('where the choice cache lives', () => {
  it('SIFT_SPARSE_CACHE names the file or turns it off; else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(sparseChoiceCacheFile({ SIFT_SPARSE_CACHE: '/x/choices.json', XDG_CACHE_HOME: '/xdg' })).toBe('/x/choices.json');
    expect(sparseChoiceCacheFile({ SIFT_SPARSE_CACHE: 'off', XDG_CACHE_HOME: '/xdg' })).toBeUndefined();
    expect(sparseChoiceCacheFile({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/sparse-ift/sparse-choices.json');
    expect(sparseChoiceCacheFile({})).toMatch(/\/\.cache\/sparse-ift\/sparse-choices\.json$/);
  });

  it('density buckets are 0.05 wide: 0.10 and 0.11 share one, 0.13 is the next', () => {
    expect(densityBucket(0.1)).toBeCloseTo(0.1, 12);
    expect(densityBucket(0.11)).toBeCloseTo(0.1, 12);
    expect(densityBucket(0.13)).toBeCloseTo(0.15, 12);
  });
});

describe('the choice cache file', () => {
  const machine = (threads: number): SparseMachine => ({ cpu: 'Test CPU', isa: 'avx2', threads, convLibrary: 'onednn', tuning: '160/256/0', addon: '0.1.0 abc' });
  const choice = { path: 'sparse' as const, sparseMs: 1, denseMs: 2, measured: '2026-12-01T00:00:00.000Z' };
  afterEach(() => {
    vi.restoreAllMocks();
    forgetCacheWarnings();
  });

  it('keeps each machine set-up apart in one file, and a second reader finds the first one\'s choices', () => {
    const file = join(tempDir(), 'sub', 'choices.json');
    new SparseChoiceCache(file, machine(2)).put('forward k', choice);
    new SparseChoiceCache(file, machine(4)).put('forward k', { ...choice, path: 'dense' });
    expect(new SparseChoiceCache(file, machine(2)).get('forward k')).toEqual(choice);
    expect(new SparseChoiceCache(file, machine(4)).get('forward k')?.path).toBe('dense');
    expect(new SparseChoiceCache(file, machine(8)).get('forward k')).toBeUndefined();
  });

  it('a reader re-reads the file on a miss, so it sees what another process stored after it started', () => {
    const file = join(tempDir(), 'choices.json');
    const early = new SparseChoiceCache(file, machine(2));
    new SparseChoiceCache(file, machine(2)).put('backward k', choice);
    expect(early.get('backward k')).toEqual(choice);
  });

  for (const [what, text] of [['corrupt', '{"format": "sparse-ift sparse-kernel choices", "vers'], ['foreign', '{"hello": "world"}']] as const) {
    it(`a ${what} file: one warning however often it is read, no choices, moved aside at the next write`, () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const file = join(tempDir(), 'choices.json');
      writeFileSync(file, text);
      const a = new SparseChoiceCache(file, machine(2));
      const b = new SparseChoiceCache(file, machine(2));
      expect(a.get('forward k') ?? b.get('forward k')).toBeUndefined();
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('ignoring the sparse-kernel choice cache'))).toHaveLength(1);
      expect(a.describe()).toContain('ignored');
      a.put('forward k', choice);
      expect(readFileSync(`${file}.invalid`, 'utf8')).toBe(text);
      expect(new SparseChoiceCache(file, machine(2)).get('forward k')).toEqual(choice);
    });
  }

  it('an unwritable place: one warning, the choice still holds in this process', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    const c = new SparseChoiceCache(join(blocker, 'choices.json'), machine(2)); // a folder under a file
    c.put('forward k', choice);
    c.put('backward k', choice);
    expect(c.get('forward k')).toEqual(choice);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('cannot write the sparse-kernel choice cache');
  });
});

describe.skipIf(!NATIVE_BACKEND_BUILT)('sparse-vs-dense choices on the native backend', () => {
  let saved: SparseMode;
  const savedEnv = process.env['SIFT_SPARSE_CACHE'];
  beforeAll(async () => {
    saved = sparseMode();
    await useBackend('native');
  });
  afterAll(() => {
    setSparseMode(saved);
    process.env['SIFT_SPARSE_CACHE'] = savedEnv;
    resetSparseChoices();
  });

  it('a density change inside a bucket keeps the choice: one report entry, timed once', () => {
    process.env['SIFT_SPARSE_CACHE'] = join(tempDir(), 'choices.json');
    setSparseMode('auto');
    resetSparseChoices();
    const r = rng(11);
    const x = tf.tensor4d(randn(r, 2 * 6 * 6 * 8), [2, 6, 6, 8]);
    const w = tf.tensor4d(randn(r, 3 * 3 * 8 * 100), [3, 3, 8, 100]);
    const mask = (nnz: number) => tf.tensor4d(Float32Array.from({ length: w.size }, (_, i) => (i % 100 < nnz ? 1 : 0)), w.shape);
    for (const m of [mask(10), mask(11)]) tf.tidy(() => maskedConv2d(x, w, m).dataSync());
    const report = sparseKernelReport();
    expect(report).toHaveLength(1);
    expect(report[0]!.density).toBeCloseTo(0.1, 12);
    expect(report[0]!.forward!.source).toBe('measured');
    expect(report[0]!.forward!.calls.sparse + report[0]!.forward!.calls.dense).toBe(2);
    const stored = JSON.parse(readFileSync(process.env['SIFT_SPARSE_CACHE'], 'utf8')) as { machines: Record<string, { choices: Record<string, { path: string }> }> };
    const [entry] = Object.values(stored.machines);
    expect(Object.keys(entry!.choices)).toEqual([`forward conv2d 3x3/1 [2,6,6,8]→100 d0.10`]);
    expect(entry!.choices['forward conv2d 3x3/1 [2,6,6,8]→100 d0.10']!.path).toBe(report[0]!.forward!.path);
  });

  // A tiny training (masked conv → ReLU → masked linear, SGD) in a child process of the built package.
  const train = (env: Record<string, string | undefined>): { losses: number[]; report: SparseLayerReport[]; stderr: string } => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { maskedConv2d, maskedMatMul } from '@sparse-ift/core';
      import { initBackend, sparseKernelReport } from './dist/index.js';
      await initBackend({ backend: 'native' });
      let s = 7;
      const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
      const values = (n, scale) => Float32Array.from({ length: n }, () => (r() - 0.5) * scale);
      const mask = (n) => Float32Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0));
      const x = tf.tensor4d(values(16 * 12 * 12 * 16, 2), [16, 12, 12, 16]);
      const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10);
      const k = tf.variable(tf.tensor4d(values(3 * 3 * 16 * 64, 0.5), [3, 3, 16, 64]));
      const km = tf.tensor4d(mask(3 * 3 * 16 * 64), [3, 3, 16, 64]);
      const w = tf.variable(tf.tensor2d(values(12 * 12 * 64 * 10, 0.05), [12 * 12 * 64, 10]));
      const wm = tf.tensor2d(mask(12 * 12 * 64 * 10), [12 * 12 * 64, 10]);
      const opt = tf.train.sgd(0.05);
      const losses = [];
      for (let i = 0; i < 8; i++) {
        const loss = opt.minimize(() => {
          const h = tf.relu(maskedConv2d(x, k, km));
          return tf.losses.softmaxCrossEntropy(labels, maskedMatMul(tf.reshape(h, [16, -1]), w, wm));
        }, true);
        losses.push(loss.dataSync()[0]);
        loss.dispose();
      }
      process.stdout.write(JSON.stringify({ losses, report: sparseKernelReport() }));`;
    const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
    for (const [key, v] of Object.entries(env)) if (v === undefined) delete childEnv[key];
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)), env: childEnv, encoding: 'utf8', timeout: 120_000,
    });
    if (out.status !== 0) throw new Error(`training child failed (${out.status}): ${out.stderr}`);
    return { ...(JSON.parse(out.stdout) as { losses: number[]; report: SparseLayerReport[] }), stderr: out.stderr };
  };
  const directions = (report: SparseLayerReport[]) => report.flatMap((l) => [l.forward!, l.backward!]);
  type Stored = { machines: Record<string, { choices: Record<string, { path: string; sparseMs: number; denseMs: number }> }> };

  it('two processes: the second takes the first one\'s choices untimed and repeats its losses bit for bit; the paths forced differ', () => {
    const file = join(tempDir(), 'choices.json');
    const first = train({ SIFT_SPARSE_CACHE: file, SIFT_SPARSE: undefined });
    const second = train({ SIFT_SPARSE_CACHE: file, SIFT_SPARSE: undefined });
    expect(first.report).toHaveLength(2); // the conv and the linear
    expect(directions(first.report).map((d) => d.source)).toEqual(['measured', 'measured', 'measured', 'measured']);
    expect(directions(second.report).map((d) => d.source)).toEqual(['cache', 'cache', 'cache', 'cache']);
    expect(directions(second.report).map((d) => [d.path, d.sparseMs, d.denseMs])).toEqual(directions(first.report).map((d) => [d.path, d.sparseMs, d.denseMs]));
    expect(second.losses).toEqual(first.losses);
    // Sums in the sparse and in the dense order differ in the last bits: an identity above is not luck.
    const sparse = train({ SIFT_SPARSE_CACHE: 'off', SIFT_SPARSE: 'sparse' });
    const dense = train({ SIFT_SPARSE_CACHE: 'off', SIFT_SPARSE: 'dense' });
    expect(sparse.losses).not.toEqual(dense.losses);
    for (const [i, l] of sparse.losses.entries()) expect(Math.abs(l - dense.losses[i]!) / dense.losses[i]!).toBeLessThan(1e-4);
  });

  it('a choice edited in the file by hand is followed, times included (nothing is timed again)', () => {
    const file = join(tempDir(), 'choices.json');
    train({ SIFT_SPARSE_CACHE: file, SIFT_SPARSE: undefined });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
    const entry = Object.values(stored.machines)[0]!;
    const edited = Object.keys(entry.choices).sort();
    edited.forEach((k, i) => Object.assign(entry.choices[k]!, { path: i % 2 === 0 ? 'sparse' : 'dense', sparseMs: 1000 + i, denseMs: 2000 + i }));
    writeFileSync(file, JSON.stringify(stored));
    const again = train({ SIFT_SPARSE_CACHE: file, SIFT_SPARSE: undefined });
    const byKey = new Map(again.report.flatMap((l) => (['forward', 'backward'] as const).map((d) => [`${d} ${l.op} ${l.shape} d${l.densityBucket.toFixed(2)}`, l[d]!])));
    edited.forEach((k, i) => {
      expect(byKey.get(k), k).toMatchObject({ path: i % 2 === 0 ? 'sparse' : 'dense', sparseMs: 1000 + i, denseMs: 2000 + i, source: 'cache' });
    });
  });

  it('a corrupt file: one warning, choices measured again, the file replaced and the old one kept aside', () => {
    const file = join(tempDir(), 'choices.json');
    writeFileSync(file, 'not json at all');
    const run = train({ SIFT_SPARSE_CACHE: file, SIFT_SPARSE: undefined });
    expect(run.stderr.match(/ignoring the sparse-kernel choice cache/g)).toHaveLength(1);
    expect(directions(run.report).every((d) => d.source === 'measured')).toBe(true);
    expect(readFileSync(`${file}.invalid`, 'utf8')).toBe('not json at all');
    expect(Object.keys(Object.values((JSON.parse(readFileSync(file, 'utf8')) as Stored).machines)[0]!.choices)).toHaveLength(4);
  });

  it('SIFT_SPARSE_CACHE=off: measured, nothing written; unset: the file under XDG_CACHE_HOME', () => {
    const xdg = tempDir();
    const off = train({ SIFT_SPARSE_CACHE: 'off', XDG_CACHE_HOME: xdg, SIFT_SPARSE: undefined });
    expect(directions(off.report).every((d) => d.source === 'measured')).toBe(true);
    expect(existsSync(join(xdg, 'sparse-ift'))).toBe(false);
    train({ SIFT_SPARSE_CACHE: undefined, XDG_CACHE_HOME: xdg, SIFT_SPARSE: undefined });
    expect(existsSync(join(xdg, 'sparse-ift', 'sparse-choices.json'))).toBe(true);
  });
});
