// This package's wasm layout kernels (Transpose and Unpack as block copies, Sum over leading or trailing
// axes, Identity and same-dtype Cast sharing memory) against tfjs' cpu backend: exact equality for the
// copies, ~1e-5 relative for sums, and gradients through them (wasm vs cpu). Random shapes (sizes 1
// and odd included), random permutations, every unpack axis, float32, int32 and bool.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { WASM_TRAINING_KERNELS, registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@sparse-ift/backend';
import { expectClose, forwardAndGrads, randInt, randn, rng, useBackend, type Input } from './helpers.js';

type Dtype = 'float32' | 'int32' | 'bool';

interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Runs f (which builds its inputs from plain arrays) on one backend; shapes, dtypes and values out. */
async function on(backend: 'wasm' | 'cpu', f: () => tf.Tensor | tf.Tensor[]): Promise<Out[]> {
  await useBackend(backend);
  const result = tf.tidy(f);
  const list = Array.isArray(result) ? result : [result];
  const out = list.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
  tf.dispose(list);
  return out;
}

async function expectSameOnBoth(what: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Out[]> {
  const wasm = await on('wasm', f);
  const cpu = await on('cpu', f);
  expect(wasm.length, `${what}: outputs`).toBe(cpu.length);
  wasm.forEach((w, i) => {
    expect(w.shape, `${what}: output ${i} shape`).toEqual(cpu[i]!.shape);
    expect(w.dtype, `${what}: output ${i} dtype`).toBe(cpu[i]!.dtype);
    expect(w.values, `${what}: output ${i} values`).toEqual(cpu[i]!.values);
  });
  await useBackend('wasm');
  return wasm;
}

function values(r: () => number, n: number, dtype: Dtype): number[] | boolean[] {
  if (dtype === 'bool') return Array.from({ length: n }, () => r() < 0.5);
  if (dtype === 'int32') return Array.from({ length: n }, () => randInt(r, -1000, 1000));
  return Array.from(randn(r, n));
}

function shuffled(r: () => number, xs: number[]): number[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** A random permutation of 0..rank-1 that keeps the last axis last (not the identity above rank 2), or one that moves it. */
function randomPerm(r: () => number, rank: number, keepLast: boolean): number[] {
  const axes = Array.from({ length: rank }, (_, i) => i);
  for (;;) {
    const p = keepLast ? [...shuffled(r, axes.slice(0, rank - 1)), rank - 1] : shuffled(r, axes);
    const identity = p.every((a, i) => a === i);
    if (keepLast ? rank === 2 || !identity : p[rank - 1] !== rank - 1) return p;
  }
}

/** Gradients of sum(f(x) * W) for one float32 input, wasm vs cpu. */
async function expectSameGradients(what: string, f: (x: tf.Tensor) => tf.Tensor, input: Input, rtol = 1e-6): Promise<void> {
  await useBackend('wasm');
  const outSize = tf.tidy(() => f(tf.tensor(input.values, input.shape)).size);
  const weights = randn(rng(outSize + 17), outSize);
  const onWasm = forwardAndGrads(f, [input], weights);
  await useBackend('cpu');
  const onCpu = forwardAndGrads(f, [input], weights);
  await useBackend('wasm');
  expectClose(onWasm.y, onCpu.y, rtol, `${what}: forward`);
  expectClose(onWasm.grads[0]!, onCpu.grads[0]!, rtol, `${what}: gradient`);
}

function kernelIsOurs(name: string): boolean {
  const ours = WASM_TRAINING_KERNELS.find((k) => k.kernelName === name);
  return ours != null && tf.getKernel(name, 'wasm')?.kernelFunc === ours.kernelFunc;
}

describe('wasm layout kernels are registered', () => {
  it('Transpose, Unpack, Sum, Identity and Cast are this package\'s on wasm', async () => {
    await useBackend('wasm');
    for (const name of [tf.Transpose, tf.Unpack, tf.Sum, tf.Identity, tf.Cast]) expect(kernelIsOurs(name), name).toBe(true);
  });
});

describe('Transpose on wasm vs cpu (exact)', () => {
  it('hand-computed: [2,3,4] perm [1,0,2] (block rows) and [2,0,1] (stock)', async () => {
    await useBackend('wasm');
    const x = tf.reshape(tf.range(0, 24, 1, 'float32'), [2, 3, 4]);
    const a = tf.transpose(x, [1, 0, 2]);
    expect(a.shape).toEqual([3, 2, 4]);
    expect(Array.from(a.dataSync())).toEqual([0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23]);
    const b = tf.transpose(tf.reshape(tf.range(0, 6, 1, 'int32'), [2, 3]), [1, 0]);
    expect(Array.from(b.dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    tf.dispose([x, a, b]);
  });

  const r = rng(11);
  for (let rank = 2; rank <= 6; rank++) {
    for (const keepLast of [true, false]) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        // Leading sizes 1..5 (1 and odd included); the last axis 1, 3 (stock path), 4, 5 or 7 (block path).
        const cases = Array.from({ length: 3 }, (_, c) => {
          const last = [4, 5, 7, 1, 3][(rank + c + (keepLast ? 0 : 2)) % 5]!;
          const maxLead = rank >= 5 ? 4 : 5;
          const shape = [...Array.from({ length: rank - 1 }, () => randInt(r, 1, maxLead)), last];
          return { shape, perm: randomPerm(r, rank, keepLast) };
        });
        const name = `rank ${rank} ${keepLast ? 'keeping' : 'moving'} the last axis, ${dtype}: ${cases.map((c) => `[${c.shape}]→perm[${c.perm}]`).join(' ')}`;
        it(name, async () => {
          for (const [i, { shape, perm }] of cases.entries()) {
            const v = values(rng(rank * 100 + i), tf.util.sizeFromShape(shape), dtype);
            const out = await expectSameOnBoth(`[${shape}] perm [${perm}]`, () => tf.transpose(tf.tensor(v, shape, dtype), perm));
            expect(out[0]!.shape).toEqual(perm.map((p) => shape[p]));
          }
        });
      }
    }
  }

  it('a larger rank-5 GPT head split [4,33,3,5,16] → [2,0,3,1,4] and the identity permutation', async () => {
    const shape = [4, 33, 3, 5, 16];
    const v = Array.from(randn(rng(5), tf.util.sizeFromShape(shape)));
    await expectSameOnBoth('head split', () => tf.transpose(tf.tensor(v, shape), [2, 0, 3, 1, 4]));
    await expectSameOnBoth('identity perm', () => tf.transpose(tf.tensor(v, shape), [0, 1, 2, 3, 4]));
  });

  it('an empty tensor', async () => {
    await expectSameOnBoth('empty', () => tf.transpose(tf.zeros([2, 0, 5]), [1, 0, 2]));
  });

  it('a transpose large enough to grow the wasm heap keeps its values', async () => {
    await useBackend('wasm');
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const before = heap();
    console.info(`wasm heap before the large transpose: ${before} bytes`);
    // Input and output together larger than the whole heap: the output allocation must grow it.
    const rows = Math.ceil(before / 4 / 2 / 64) + 1;
    const x = tf.tidy(() => tf.add(tf.mul(tf.reshape(tf.range(0, 2 * rows, 1, 'float32'), [2, rows, 1]), 1000), tf.range(0, 64, 1, 'float32')));
    const y = tf.transpose(x, [1, 0, 2]);
    expect(heap()).toBeGreaterThan(before);
    const got = y.dataSync();
    for (const row of [0, 1, rows >> 1, rows - 1]) {
      for (const b of [0, 1]) {
        for (const k of [0, 5, 63]) expect(got[(row * 2 + b) * 64 + k], `row ${row} batch ${b} column ${k}`).toBe(Math.fround(Math.fround((b * rows + row) * 1000) + k));
      }
    }
    tf.dispose([x, y]);
  });

  for (const [shape, perm] of [[[3, 5, 4], [1, 0, 2]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 1, 3, 2, 6], [2, 0, 3, 1, 4]], [[3, 2, 5], [2, 0, 1]], [[2, 3, 1, 2, 2, 3], [5, 4, 3, 2, 1, 0]]] as const) {
    const name = `gradient through transpose [${shape}] perm [${perm}]`;
    it(name, async () => {
      const n = tf.util.sizeFromShape([...shape]);
      await expectSameGradients(name, (x) => tf.mul(tf.transpose(x, [...perm]), tf.transpose(x, [...perm])), { shape: [...shape], values: randn(rng(n), n) });
    });
  }
});

describe('Unpack on wasm vs cpu (exact)', () => {
  it('hand-computed: [2,3] along axis 1', async () => {
    await useBackend('wasm');
    const parts = tf.unstack(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 1);
    expect(parts.map((p) => Array.from(p.dataSync()))).toEqual([[1, 4], [2, 5], [3, 6]]);
    tf.dispose(parts);
  });

  const r = rng(21);
  for (let rank = 1; rank <= 5; rank++) {
    const shape = Array.from({ length: rank }, (_, i) => (i === 0 ? 3 : randInt(r, 1, 5)));
    for (let axis = 0; axis < rank; axis++) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const name = `[${shape}] axis ${axis} (and ${axis - rank}), ${dtype}`;
        it(name, async () => {
          const v = values(rng(rank * 10 + axis), tf.util.sizeFromShape(shape), dtype);
          const out = await expectSameOnBoth(name, () => tf.unstack(tf.tensor(v, shape, dtype), axis));
          expect(out.length).toBe(shape[axis]);
          expect(out[0]!.shape).toEqual(shape.filter((_, i) => i !== axis));
          await expectSameOnBoth(`${name} negative axis`, () => tf.unstack(tf.tensor(v, shape, dtype), axis - rank));
        });
      }
      if (rank >= 2) {
        const gname = `gradient through unstack [${shape}] axis ${axis}`;
        it(gname, async () => {
          const n = tf.util.sizeFromShape(shape);
          await expectSameGradients(gname, (x) => {
            const parts = tf.unstack(x, axis);
            return tf.stack(parts.map((p, i) => tf.mul(p, i + 1)).reverse(), axis);
          }, { shape, values: randn(rng(n + axis), n) });
        });
      }
    }
  }
});

describe('Sum on wasm vs cpu (~1e-5 relative)', () => {
  const cases: { shape: number[]; axis: number | number[] | null; kind: string }[] = [
    { shape: [37, 5], axis: 0, kind: 'leading (bias gradient)' },
    { shape: [7, 3, 9], axis: [0, 1], kind: 'leading' },
    { shape: [1, 5, 6], axis: 0, kind: 'leading, size 1' },
    { shape: [2, 3, 4, 5], axis: [0, 1, 2], kind: 'leading' },
    { shape: [5, 37], axis: 1, kind: 'trailing' },
    { shape: [5, 37], axis: -1, kind: 'trailing, negative axis' },
    { shape: [3, 5, 7], axis: [1, 2], kind: 'trailing' },
    { shape: [3, 5, 7], axis: [2, 1], kind: 'trailing, unsorted axes' },
    { shape: [2, 3, 4, 1], axis: [3], kind: 'trailing, size 1' },
    { shape: [3, 5, 7], axis: 1, kind: 'middle (stock)' },
    { shape: [2, 3, 4, 5], axis: [1, 2], kind: 'middle (stock)' },
    { shape: [3, 4, 5], axis: [0, 2], kind: 'outer pair (stock)' },
    { shape: [3, 4, 5], axis: null, kind: 'all axes (stock)' },
    { shape: [3, 4, 5], axis: [0, 1, 2], kind: 'all axes listed (stock)' },
    { shape: [11], axis: 0, kind: 'rank 1 (stock)' },
    { shape: [1000, 3], axis: 0, kind: 'leading, long' },
  ];
  for (const { shape, axis, kind } of cases) {
    for (const keepDims of [false, true]) {
      const name = `${kind}: [${shape}] axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
      it(name, async () => {
        const n = tf.util.sizeFromShape(shape);
        const v = randn(rng(n), n);
        const f = () => tf.sum(tf.tensor(v, shape), axis ?? undefined, keepDims);
        const [wasm] = await on('wasm', f);
        const [cpu] = await on('cpu', f);
        expect(wasm!.shape).toEqual(cpu!.shape);
        expect(wasm!.dtype).toBe('float32');
        expectClose(wasm!.values, cpu!.values, 1e-5, name);
        // Against a float64 sum on the host too.
        const axes = tf.util.parseAxisParam(axis ?? shape.map((_, i) => i), shape);
        const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
        const strides = tf.util.computeStrides(shape).concat([1]);
        const keptShape = kept.map((i) => shape[i]!);
        const keptStrides = tf.util.computeStrides(keptShape).concat([1]);
        const ref = new Float64Array(tf.util.sizeFromShape(keptShape));
        for (let flat = 0; flat < n; flat++) {
          let o = 0;
          kept.forEach((a, j) => (o += (Math.floor(flat / strides[a]!) % shape[a]!) * keptStrides[j]!));
          ref[o] += v[flat]!;
        }
        expectClose(wasm!.values, ref, 1e-5, `${name}: vs float64`);
      });
    }
  }

  it('int32 input falls back on the stock kernel (exact, int32 out)', async () => {
    const v = Array.from({ length: 60 }, (_, i) => (i * 37) % 101 - 50);
    for (const axis of [0, -1, [1, 2], 1, null] as const) {
      for (const keepDims of [false, true]) {
        const out = await expectSameOnBoth(`int32 sum axis ${JSON.stringify(axis)}`, () =>
          tf.sum(tf.tensor(v, [3, 4, 5], 'int32'), axis === null ? undefined : (axis as number | number[]), keepDims));
        expect(out[0]!.dtype).toBe('int32');
      }
    }
  });

  it('bool input sums as int32', async () => {
    const v = Array.from({ length: 12 }, (_, i) => i % 3 === 0);
    await expectSameOnBoth('bool sum', () => tf.sum(tf.tensor(v, [4, 3], 'bool'), 0));
  });

  it('an empty tensor', async () => {
    // The sum over nothing is 0 (the stock wasm kernel returned uninitialised memory here).
    const out = await expectSameOnBoth('empty sums', () => [
      tf.sum(tf.zeros([0, 4]), 0),
      tf.sum(tf.zeros([0, 4]), 0, true),
      tf.sum(tf.zeros([3, 0]), 1),
      tf.sum(tf.zeros([2, 0, 3]), 1),
      tf.sum(tf.zeros([0, 4])),
      tf.sum(tf.zeros([0, 4], 'int32'), 0),
      tf.sum(tf.zeros([2, 0]), 0),
    ]);
    expect(out.map((o) => o.shape)).toEqual([[4], [1, 4], [3], [2, 3], [], [4], [0]]);
    for (const o of out) expect(o.values.every((a) => a === 0)).toBe(true);
  });

  for (const [shape, axis] of [[[6, 5], 0], [[4, 3, 5], [0, 1]], [[4, 3, 5], -1], [[4, 3, 5], [1, 2]], [[4, 3, 5], 1], [[4, 3, 5], [0, 2]]] as const) {
    for (const keepDims of [false, true]) {
      const name = `gradient through sum [${shape}] axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
      it(name, async () => {
        const n = tf.util.sizeFromShape([...shape]);
        await expectSameGradients(name, (x) => tf.sum(tf.mul(x, x), axis as number | number[], keepDims), { shape: [...shape], values: randn(rng(n), n) }, 1e-5);
      });
    }
  }
});

describe('Identity and same-dtype Cast on wasm share memory', () => {
  type WasmInternals = { refCount(dataId: object): number; dataIdMap: { has(dataId: object): boolean } };
  const backendInternals = () => tf.backend() as unknown as WasmInternals;
  const dataIdOf = (t: tf.Tensor) => (t as unknown as { dataId: object }).dataId;

  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it(`tf.clone and tf.cast(x, '${dtype}') give equal values and share x's memory`, async () => {
      await useBackend('wasm');
      const v = values(rng(3), 1000, dtype);
      const x = tf.tensor(v, [10, 100], dtype);
      const want = Array.from(x.dataSync());
      const before = tf.memory();
      const c = tf.clone(x);
      const k = tf.cast(x, dtype);
      const after = tf.memory();
      for (const [t, what] of [[c, 'clone'], [k, 'cast']] as const) {
        expect(t.dtype, what).toBe(dtype);
        expect(t.shape, what).toEqual([10, 100]);
        expect(Array.from(t.dataSync()), what).toEqual(want);
        expect(dataIdOf(t), `${what}: same data id`).toBe(dataIdOf(x));
      }
      // No new buffer on the wasm heap (the engine's numBytes counts each tensor's size whether or not
      // its data is shared, so it cannot show this; numDataBuffers and the backend's refCount can).
      expect(after.numDataBuffers - before.numDataBuffers).toBe(0);
      expect(after.numTensors - before.numTensors).toBe(2);
      expect(backendInternals().refCount(dataIdOf(x))).toBe(3);
      tf.dispose([x, c, k]);
      expect(backendInternals().refCount(dataIdOf(x))).toBe(0);
    });
  }

  it('disposing the source then reading the clone (and the cast) still works; the last dispose frees the buffer', async () => {
    await useBackend('wasm');
    const start = tf.memory().numDataBuffers;
    const v = randn(rng(4), 257);
    const x = tf.tensor(v, [257]);
    const id = dataIdOf(x);
    const c = tf.clone(x);
    const k = tf.cast(x, 'float32');
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(c.dataSync()).toEqual(v);
    const doubled = tf.mul(c, 2);
    expect(Array.from(doubled.dataSync())).toEqual(Array.from(v, (a) => Math.fround(a * 2)));
    doubled.dispose();
    c.dispose();
    expect(k.dataSync()).toEqual(v);
    expect(backendInternals().dataIdMap.has(id)).toBe(true);
    k.dispose();
    expect(backendInternals().dataIdMap.has(id)).toBe(false);
    expect(tf.memory().numDataBuffers).toBe(start);
  });

  it('tf.keep(tf.clone(x)) outlives the tidy that disposed x', async () => {
    await useBackend('wasm');
    const kept = tf.tidy(() => {
      const x = tf.tensor([1.5, -2, 3]);
      return tf.keep(tf.clone(tf.mul(x, 2)));
    });
    expect(Array.from(kept.dataSync())).toEqual([3, -4, 6]);
    kept.dispose();
  });

  it('the stock kernels (control) copy: numDataBuffers grows, so the check above would catch a copy', async () => {
    await useBackend('wasm');
    unregisterWasmTrainingKernels();
    try {
      const x = tf.tensor([1, 2, 3, 4]);
      const before = tf.memory().numDataBuffers;
      const c = tf.clone(x);
      expect(tf.memory().numDataBuffers - before).toBe(1);
      expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
      tf.dispose([x, c]);
    } finally {
      registerWasmTrainingKernels();
    }
    for (const name of [tf.Transpose, tf.Unpack, tf.Sum, tf.Identity, tf.Cast]) expect(kernelIsOurs(name), name).toBe(true);
  });

  it('a cast to another dtype still converts (and gets its own buffer); to bool means != 0', async () => {
    const f = () => {
      const x = tf.tensor([1.7, -2.3, 0, 0.5, -0.5, 3]);
      const i = tf.tensor([0, 1, -2, 3], [4], 'int32');
      const special = tf.tensor([NaN, -0, Infinity, -Infinity, 1e-30]);
      return [tf.cast(x, 'int32'), tf.cast(x, 'bool'), tf.cast(i, 'float32'), tf.cast(i, 'bool'), tf.cast(tf.cast(i, 'bool'), 'int32'), tf.cast(special, 'bool')];
    };
    const out = await expectSameOnBoth('casts', f);
    expect(out.map((o) => o.dtype)).toEqual(['int32', 'bool', 'float32', 'bool', 'int32', 'bool']);
    expect(out[0]!.values).toEqual([1, -2, 0, 0, 0, 3]);
    expect(out[1]!.values).toEqual([1, 1, 0, 1, 1, 1]);
    expect(out[2]!.values).toEqual([0, 1, -2, 3]);
    expect(out[3]!.values).toEqual([0, 1, 1, 1]);
    expect(out[4]!.values).toEqual([0, 1, 1, 1]);
    expect(out[5]!.values).toEqual([1, 0, 1, 1, 1]);
    await useBackend('wasm');
    const x = tf.tensor([1.25, 2]);
    const y = tf.cast(x, 'int32');
    expect(dataIdOf(y)).not.toBe(dataIdOf(x));
    tf.dispose([x, y]);
  });

  it('gradients through clone and same-dtype cast match cpu', async () => {
    await expectSameGradients('clone/cast', (x) => tf.mul(tf.cast(tf.clone(x), 'float32'), tf.clone(tf.square(x))), { shape: [3, 7], values: randn(rng(6), 21) });
  });
});

describe('GPT-like head split: reshape [B,T,3,H,dh] → transpose [2,0,3,1,4] → unstack', () => {
  for (const [b, t, h, dh] of [[2, 5, 3, 8], [1, 7, 2, 3], [3, 4, 1, 16]] as const) {
    const split = (x: tf.Tensor): tf.Tensor[] => tf.unstack(tf.transpose(tf.reshape(x, [b, t, 3, h, dh]), [2, 0, 3, 1, 4]));
    const n = b * t * 3 * h * dh;
    const input: Input = { shape: [b, t, 3 * h * dh], values: randn(rng(n), n) };

    it(`B=${b} T=${t} H=${h} dh=${dh}: q, k, v equal cpu exactly`, async () => {
      const out = await expectSameOnBoth('split', () => split(tf.tensor(input.values, input.shape)));
      expect(out.length).toBe(3);
      for (const o of out) expect(o.shape).toEqual([b, h, t, dh]);
      // q[b', h', t', d] = x[b', t', 0, h', d]
      const q = out[0]!.values;
      for (const [bi, hi, ti, d] of [[0, 0, 0, 0], [b - 1, h - 1, t - 1, dh - 1], [b >> 1, h >> 1, t >> 1, dh >> 1]] as const) {
        expect(q[((bi * h + hi) * t + ti) * dh + d]).toBe(input.values[(((bi * t + ti) * 3 + 0) * h + hi) * dh + d]);
      }
    });

    it(`B=${b} T=${t} H=${h} dh=${dh}: elementwise use, gradients equal cpu`, async () => {
      await expectSameGradients('q*k+v', (x) => {
        const [q, k, v] = split(x);
        return tf.add(tf.mul(q!, k!), tf.mul(v!, 0.5));
      }, input, 1e-6);
    });

    it(`B=${b} T=${t} H=${h} dh=${dh}: causal attention, gradients equal cpu`, async () => {
      const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9));
      await expectSameGradients('attention', (x) => {
        const [q, k, v] = split(x);
        const att = tf.softmax(tf.add(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(dh)), mask));
        // Merge heads back: [B,H,T,dh] → [B,T,H,dh] → [B,T,H*dh].
        return tf.reshape(tf.transpose(tf.matMul(att, v!), [0, 2, 1, 3]), [b, t, h * dh]);
      }, input, 1e-5);
      mask.dispose();
    });
  }
});
