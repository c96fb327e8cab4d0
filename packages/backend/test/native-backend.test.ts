// The native backend as a whole: selection and threads, the kernel provenance that results files store,
// its tensor memory (recycled blocks must never be reused while anything can still read them), per-tensor
// side data, and bad input (a clear error naming the kernel and the argument, or a counted fallback).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeProvenance, initBackend, loadNativeAddon, nativeAddonPath, nativeBackendRegistration, nativeMemoryStats, trimNativeMemory, TRAINING_KERNELS, registerNativeKernel, decline, type NativeBackend } from '@sparse-ift/backend';
import { NATIVE_KERNELS } from '../src/native-backend/kernels/index.js';
import { NATIVE_BACKEND_BUILT, useBackend } from './helpers.js';

const backend = () => tf.backend() as unknown as NativeBackend;

describe.skipIf(!NATIVE_BACKEND_BUILT)('native backend', () => {
  beforeAll(async () => {
    await useBackend('native');
  });

  it('initBackend: native by name, threads option, provenance stored in the info', async () => {
    const info = await initBackend({ backend: 'native', training: true, threads: 1 });
    expect(info.name).toBe('native');
    expect(info.native).toBe(true);
    expect(info.threads).toBe(1);
    expect(info.kernels).toMatch(/OpenMP kernels \((avx512|avx2|x86-64)\)/);
    const restored = await initBackend({ backend: 'native', training: true, threads: 2 });
    expect(restored.threads).toBe(2);
    await expect(initBackend({ backend: 'native', threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });

  it('covers every kernel of the zoo\'s training steps natively (TRAINING_KERNELS, traced by tools/bench/kernel-trace.ts)', async () => {
    const info = await initBackend({ backend: 'native', training: true });
    expect(info.coverage!.trainingFallbacks).toEqual([]);
    expect(info.coverage!.trainingKernels).toBe(TRAINING_KERNELS.length);
    expect(info.coverage!.native.length).toBeGreaterThanOrEqual(70);
  });

  it('results files get the kernels that ran (BackendInfo.provenance serialises at write time)', async () => {
    const info = await initBackend({ backend: 'native', training: true });
    const saved = { backend: { ...info } }; // what the reproductions store
    info.provenance!.reset();
    tf.tidy(() => tf.sum(tf.mul(tf.ones([4, 4]), 2)).dataSync());
    tf.tidy(() => tf.logicalNot(tf.tensor1d([1, 0], 'bool')).dataSync()); // no native kernel
    const json = JSON.parse(JSON.stringify(saved)) as { backend: { provenance: { native: Record<string, number>; fallback: Record<string, { calls: number; reasons: string[] }> } } };
    expect(json.backend.provenance.native['Multiply']).toBe(1);
    expect(json.backend.provenance.native['Sum']).toBe(1);
    expect(json.backend.provenance.fallback['LogicalNot']).toEqual({ calls: 1, reasons: ['no native kernel'] });
    expect(describeProvenance(info.provenance!.snapshot())).toMatch(/native: .*Multiply ×1.*\| fell back to JS: LogicalNot ×1 \(no native kernel\)/);
  });

  it('a kernel declines what it does not handle, counted with the reason, and the JS kernel gives the answer', async () => {
    await useBackend('native');
    const p = nativeBackendRegistration()!.provenance;
    p.reset();
    const y = tf.tidy(() => tf.cast(tf.tensor1d([1.7, -2.5, NaN]), 'int32').dataSync());
    expect(Array.from(y)).toEqual([1, -2, 0]); // JavaScript's ToInt32, from tfjs-backend-cpu
    expect(p.snapshot().fallback['Cast']?.reasons).toEqual(['cast float32 to int32']);
  });

  describe('memory', () => {
    it('a slice that views its input keeps its values after the input is disposed and its memory reused', async () => {
      await useBackend('native');
      const x = tf.reshape(tf.range(0, 300 * 300, 1, 'float32'), [300, 300]); // 360 KB: a recycled block
      const rows = tf.slice(x, [10, 0], [2, 300]); // contiguous: a view of x's memory
      x.dispose();
      const filler = tf.fill([300, 300], -1); // likely gets x's block if it were recycled
      const v = rows.dataSync();
      expect(v[0]).toBe(3000);
      expect(v[599]).toBe(3599);
      tf.dispose([rows, filler]);
    });

    it('an array returned by dataSync keeps its values after the tensor is disposed', async () => {
      await useBackend('native');
      const t = tf.fill([256, 256], 7);
      const values = t.dataSync();
      t.dispose();
      const others = Array.from({ length: 4 }, () => tf.fill([256, 256], 3));
      expect(values[0]).toBe(7);
      expect(values[values.length - 1]).toBe(7);
      tf.dispose(others);
    });

    it('pools small tensors (1 to 64 KiB) too: no new blocks in steady state; views and dataSync arrays keep their values', async () => {
      await useBackend('native');
      const addon = loadNativeAddon();
      if (!addon.loaded) throw new Error('addon');
      const step = () => tf.tidy(() => tf.sum(tf.pad(tf.mul(tf.fill([30, 30], 2), 3), [[1, 1], [1, 1]])).dataSync()[0]); // 3.6 KB
      for (let i = 0; i < 3; i++) expect(step()).toBe(6 * 30 * 30);
      const before = addon.addon.tensors.poolStats();
      for (let i = 0; i < 5; i++) expect(step()).toBe(6 * 30 * 30);
      expect(addon.addon.tensors.poolStats().allocations - before.allocations, 'new blocks in steady state').toBe(0);
      const bufferOf = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values.buffer;
      const first = tf.fill([20, 20], 1); // 1.6 KB: a 2 KiB block
      const block = bufferOf(first);
      first.dispose();
      const second = tf.fill([16, 25], 2); // same class
      expect(bufferOf(second), 'the next tensor of the class reuses the block').toBe(block);
      expect(block.byteLength).toBe(2048);
      second.dispose();
      const x = tf.reshape(tf.range(0, 100 * 100, 1, 'float32'), [100, 100]); // 40 KB
      const rows = tf.slice(x, [10, 0], [2, 100]);
      const kept = tf.fill([64, 64], 7);
      const values = kept.dataSync();
      tf.dispose([x, kept]);
      const fillers = Array.from({ length: 4 }, () => [tf.fill([100, 100], -1), tf.fill([64, 64], 3)]);
      expect([rows.dataSync()[0], rows.dataSync()[199]]).toEqual([1000, 1199]);
      expect([values[0], values[values.length - 1]]).toEqual([7, 7]);
      tf.dispose([rows, ...fillers.flat()]);
    });

    it('recycles blocks: steady-state steps reuse memory, and outputs start from zero where a kernel relies on it', async () => {
      await useBackend('native');
      const addon = loadNativeAddon();
      if (!addon.loaded) throw new Error('addon');
      const step = () => tf.tidy(() => tf.sum(tf.pad(tf.mul(tf.fill([200, 200], 2), 3), [[1, 1], [1, 1]])).dataSync()[0]);
      for (let i = 0; i < 3; i++) expect(step()).toBe(6 * 200 * 200);
      const before = addon.addon.tensors.poolStats();
      for (let i = 0; i < 5; i++) expect(step()).toBe(6 * 200 * 200);
      const after = addon.addon.tensors.poolStats();
      expect(after.allocations - before.allocations, 'new blocks in steady state').toBe(0);
      // Trimming frees the reusable blocks; live tensors keep theirs.
      const kept = tf.fill([300, 300], 4);
      expect(trimNativeMemory()).toBeGreaterThan(0);
      expect(nativeMemoryStats().reusableBytes).toBe(0);
      expect(kept.dataSync()[89_999]).toBe(4);
      kept.dispose();
    });

    it('keeps reusable blocks to a quarter of the machine\'s memory by default', async () => {
      await useBackend('native');
      expect(nativeMemoryStats().reusableLimit).toBe(totalmem() / 4);
    });

    // The limits are read when the backend registers: a child process per setting, on the built package.
    const inChild = (env: Record<string, string>, body: string): string =>
      execFileSync(process.execPath, ['--input-type=module', '-e', `
        import * as tf from '@tensorflow/tfjs-core';
        import { initBackend, loadNativeAddon, nativeMemoryStats, trimNativeMemory } from './dist/index.js';
        await initBackend({ backend: 'native' });
        const pool = loadNativeAddon().addon.tensors;
        const bufferOf = (t) => tf.backend().data.get(t.dataId).values.buffer;
        ${body}`], { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

    it('SPARSE_IFT_POOL_MAX_MB caps the reusable blocks: the oldest are freed at once, trimNativeMemory frees the rest', () => {
      // Four 512 KiB tensors disposed in order under a 1 MiB cap: the first two are evicted as the last two
      // come (freed at once: their ArrayBuffers are detached, byteLength 0); a 2 MiB one never fits.
      const out = JSON.parse(inChild({ SPARSE_IFT_POOL_MAX_MB: '1' }, `
        const xs = [1, 2, 3, 4].map((v) => tf.fill([128 * 1024], v));
        const big = tf.fill([512 * 1024], 5);
        const buffers = [...xs, big].map(bufferOf);
        const before = pool.poolStats();
        xs.forEach((x) => x.dispose());
        big.dispose();
        const disposed = { stats: nativeMemoryStats(), discards: pool.poolStats().discards - before.discards, lengths: buffers.map((b) => b.byteLength) };
        const trimmed = trimNativeMemory();
        const after = { stats: nativeMemoryStats(), discards: pool.poolStats().discards - before.discards, lengths: buffers.map((b) => b.byteLength) };
        process.stdout.write(JSON.stringify({ disposed, trimmed, after }));`)) as {
        disposed: { stats: { reusableBytes: number; reusableLimit: number }; discards: number; lengths: number[] };
        trimmed: number;
        after: { stats: { reusableBytes: number }; discards: number; lengths: number[] };
      };
      const KiB = 1024;
      expect(out.disposed.stats.reusableLimit).toBe(1024 * KiB);
      expect(out.disposed.stats.reusableBytes).toBe(1024 * KiB);
      expect(out.disposed.discards).toBe(3);
      expect(out.disposed.lengths).toEqual([0, 0, 512 * KiB, 512 * KiB, 0]);
      expect(out.trimmed).toBe(1024 * KiB);
      expect(out.after.stats.reusableBytes).toBe(0);
      expect(out.after.discards).toBe(5);
      expect(out.after.lengths).toEqual([0, 0, 0, 0, 0]);
    });

    it('SPARSE_IFT_NATIVE_POOL=0 keeps tensors in ordinary arrays; a bad SPARSE_IFT_POOL_MAX_MB is a clear error', () => {
      const off = JSON.parse(inChild({ SPARSE_IFT_NATIVE_POOL: '0' }, `
        const before = pool.poolStats().allocations;
        const x = tf.fill([256 * 1024], 2);
        const sum = tf.sum(tf.mul(x, x)).dataSync()[0];
        process.stdout.write(JSON.stringify({ sum, blocks: pool.poolStats().allocations - before, limit: nativeMemoryStats().reusableLimit, trimmed: trimNativeMemory() }));`));
      expect(off).toEqual({ sum: 4 * 256 * 1024, blocks: 0, limit: 0, trimmed: 0 });
      expect(() => inChild({ SPARSE_IFT_POOL_MAX_MB: 'lots' }, '')).toThrow(/SPARSE_IFT_POOL_MAX_MB must be a number of MiB >= 0 .*got 'lots'/);
    });

    it('disposing everything returns to the same number of tensors (no leaked storage entries)', async () => {
      await useBackend('native');
      const n = tf.memory().numTensors;
      const ids = backend().numDataIds();
      const w = tf.tidy(() => tf.variable(tf.randomNormal([80, 80])));
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(w, w))) as tf.Scalar, [w]);
          w.assign(tf.sub(w, tf.mul(grads[w.name]!, 1e-3)));
        });
      }
      w.dispose();
      expect(tf.memory().numTensors).toBe(n);
      expect(backend().numDataIds()).toBe(ids);
    });
  });

  it('registerNativeKernel adds a kernel that is counted, and may decline to the JS kernel of its name', async () => {
    await useBackend('native');
    registerNativeKernel({
      kernelName: 'SparseIftTestDouble',
      run: ({ inputs, backend: b }) => {
        const x = inputs['x']!;
        const v = b.entry(x, 'SparseIftTestDouble').values as Float32Array;
        return b.makeTensorInfo(x.shape, 'float32', v.map((e) => 2 * e));
      },
    });
    const p = nativeBackendRegistration()!.provenance;
    p.reset();
    const y = tf.tidy(() => (tf.engine().runKernel('SparseIftTestDouble', { x: tf.tensor1d([1, -2]) }) as tf.Tensor).dataSync());
    expect(Array.from(y)).toEqual([2, -4]);
    expect(p.snapshot().native['SparseIftTestDouble']).toBe(1);
    expect(nativeBackendRegistration()!.nativeKernels).toContain('SparseIftTestDouble');
    registerNativeKernel({ kernelName: tf.Neg, run: () => decline('test: leave it to JS') });
    p.reset();
    expect(Array.from(tf.tidy(() => tf.neg(tf.tensor1d([3])).dataSync()))).toEqual([-3]);
    expect(p.snapshot().fallback['Neg']?.reasons).toEqual(['test: leave it to JS']);
    const original = NATIVE_KERNELS.find((k) => k.kernelName === tf.Neg)!;
    registerNativeKernel(original); // put the native Neg back
  });

  describe('side data per tensor (for kernels that keep a packed or sparse form of a weight)', () => {
    it('is built once per data, dropped when the data is disposed, and a reassigned variable gets new data', async () => {
      await useBackend('native');
      const built: number[] = [];
      const released: number[] = [];
      const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
      const packed = () => backend().sideData(v, 'test:sum', () => {
        const s = v.dataSync().reduce((a, b) => a + b, 0);
        built.push(s);
        return s;
      }, (s) => released.push(s));
      expect(packed()).toBe(6);
      expect(packed()).toBe(6);
      expect(built).toEqual([6]);
      tf.tidy(() => v.assign(tf.tensor1d([10, 20, 30])));
      expect(released).toEqual([6]); // the old value's data is gone
      expect(packed()).toBe(60);
      v.dispose();
      expect(released).toEqual([6, 60]);
    });
  });

  it('the x86-64 and AVX2 copies of the hand-written kernels give the results of the one this CPU runs', () => {
    const addon = loadNativeAddon();
    if (!addon.loaded) throw new Error('addon');
    // A child process per forced ISA (SIFT_ISA is read once, when the addon loads).
    const script = `
      const t = require(${JSON.stringify(nativeAddonPath())}).tensors;
      const n = 4099, x = new Float32Array(n), g = new Float32Array(67).fill(1.5), b = new Float32Array(67).fill(-0.25);
      for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 4;
      const y = new Float32Array(n); t.gelu(true, x, y);
      const e = new Float32Array(n); t.unary(2, x, e, 0, 0);
      const s = new Float32Array(61); t.reduce(0, 1, 67, 61, x.subarray(0, 67 * 61), s);
      const bn = new Float32Array(67 * 61), m = new Float32Array(61), v = new Float32Array(61);
      t.batchNormForward(true, 1e-5, x.subarray(0, 67 * 61), g.subarray(0, 61), b.subarray(0, 61), null, bn, m, v);
      process.stdout.write(JSON.stringify({ isa: t.isa(), out: [...y, ...e, ...s, ...bn] }));`;
    const run = (isa?: string) => JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...(isa ? { SIFT_ISA: isa } : {}) }, encoding: 'utf8' })) as { isa: string; out: number[] };
    const best = run();
    expect(best.isa).toBe(addon.addon.tensors.isa());
    for (const isa of ['base', 'avx2']) {
      const forced = run(isa);
      expect(forced.isa).toBe(isa === 'base' ? 'x86-64' : best.isa === 'x86-64' ? 'x86-64' : 'avx2');
      let worst = 0;
      forced.out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - best.out[i]!) / Math.max(1, Math.abs(best.out[i]!)))));
      expect(worst, `${isa} vs ${best.isa}: largest relative difference`).toBeLessThan(1e-5);
    }
  });

  describe('bad input', () => {
    const addon = loadNativeAddon();
    const k = addon.loaded ? addon.addon.tensors : undefined;

    it('addon entry points name themselves and the argument: wrong types, short arrays, bad geometry', () => {
      const f = new Float32Array(4);
      expect(() => k!.unary(0, new Int32Array(4) as unknown as Float32Array, f, 0, 0)).toThrow(/sparse-ift native unary: x must be a Float32Array/);
      expect(() => k!.softmax(3, 4, new Float32Array(11), new Float32Array(12))).toThrow(/sparse-ift native softmax: x holds 11 elements; the shapes given need 12/);
      expect(() => k!.reduce(0, 2, -1, 1, f, f)).toThrow(/sparse-ift native reduce: R must be a non-negative integer/);
      expect(() => k!.transpose(Float64Array.from([2, 2]), Float64Array.from([0, 0]), f, f)).toThrow(/transpose: perm must be a permutation/);
      expect(() => k!.binary(0, Float64Array.from([4]), f, Float64Array.from([1]), new Int32Array(4), Float64Array.from([1]), f)).toThrow(/binary: a and b must both be Float32Array or both Int32Array/);
      expect(() => k!.conv2d(0, new Float64Array(14), f, f, f)).toThrow(/conv2d: geometry must be a Float64Array of 15/);
      expect(() => k!.matmul(Float64Array.from([1, 1, 1, 3, 3, 3]), false, false, new Float32Array(8), new Float32Array(9), null, new Float32Array(9))).toThrow(/matmul: a holds 8 elements/);
      expect(() => (k!.gelu as (...a: unknown[]) => void)(true, f)).toThrow(/sparse-ift native gelu: expected 3 arguments, got 2/);
    });

    it('kernels with bad shapes or indices raise tf.js\' own errors (the JS kernel checks them)', async () => {
      await useBackend('native');
      expect(() => tf.gather(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 5], 'int32'))).toThrow(/GatherV2: the index value 5 is not in \[0, 2\]/);
      expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes/);
    });

    it('a NaN in, NaN out through a training-style chain (no kernel flushes it)', async () => {
      await useBackend('native');
      const y = tf.tidy(() => {
        const x = tf.tensor2d([[NaN, 1], [2, 3]]);
        return tf.softmax(tf.relu(tf.add(tf.matMul(x, tf.ones([2, 2])), 1))).dataSync();
      });
      expect(Number.isNaN(y[0]!) && Number.isNaN(y[1]!)).toBe(true);
      expect(y[2]).toBeCloseTo(0.5, 6);
    });
  });
});
