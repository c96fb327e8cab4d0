// The native sparse kernels (native/sparse_*.cc) against a float64 reference of the masked convolution,
// on every ISA path this CPU runs (skipped when the addon is not built: `npm run build:native -w
// @sparse-ift/backend`).
import { afterAll, describe, expect, it } from 'vitest';
import {
  SparseConv,
  alignedFloat32Array,
  loadSparseKernels,
  setSparseTuning,
  sparseConvGeometry,
  sparseTuning,
  sparseLinearGeometry,
  type SparseConvGeometry,
  type SparseIsa,
  type SparseLayout,
} from '../src/sparse-kernels.js';
import { randn, rng } from './helpers.js';

const loaded = loadSparseKernels();
const kernels = loaded.kernels;

// ---------------------------------------------------------------------------------------------------
// float64 reference (NHWC), returning the value and the sum of |terms| (the scale of the rounding error).

interface Ref {
  v: Float64Array;
  abs: Float64Array;
}

const xAt = (g: SparseConvGeometry, n: number, h: number, w: number, c: number) => ((n * g.h + h) * g.w + w) * g.c + c;
const yAt = (g: SparseConvGeometry, n: number, h: number, w: number, o: number) => ((n * g.outH + h) * g.outW + w) * g.o + o;
const wAt = (g: SparseConvGeometry, kh: number, kw: number, c: number, o: number) => ((kh * g.kw + kw) * g.c + c) * g.o + o;

/**
 * Σ over every product of the conv that reads inside the input (taps off the mask skipped unless
 * `allTaps`): term(xi, yi, wi) is added at out(xi, yi, wi), with its magnitude.
 */
function refSum(
  g: SparseConvGeometry, mask: Float32Array, size: number, allTaps: boolean,
  term: (xi: number, yi: number, wi: number) => number, out: (xi: number, yi: number, wi: number) => number,
): Ref {
  const v = new Float64Array(size);
  const abs = new Float64Array(size);
  for (let n = 0; n < g.n; n++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++)
        for (let kh = 0; kh < g.kh; kh++) {
          const ih = oh * g.strideH - g.padTop + kh;
          if (ih < 0 || ih >= g.h) continue;
          for (let kw = 0; kw < g.kw; kw++) {
            const iw = ow * g.strideW - g.padLeft + kw;
            if (iw < 0 || iw >= g.w) continue;
            for (let c = 0; c < g.c; c++)
              for (let o = 0; o < g.o; o++) {
                const wi = wAt(g, kh, kw, c, o);
                if (!allTaps && !mask[wi]) continue;
                const xi = xAt(g, n, ih, iw, c), yi = yAt(g, n, oh, ow, o);
                const t = term(xi, yi, wi);
                const at = out(xi, yi, wi);
                v[at] += t;
                abs[at] += Math.abs(t);
              }
          }
        }
  return { v, abs };
}

const refForward = (g: SparseConvGeometry, x: Float32Array, w: Float32Array, mask: Float32Array): Ref =>
  refSum(g, mask, g.n * g.outH * g.outW * g.o, false, (xi, _yi, wi) => w[wi]! * x[xi]!, (_xi, yi) => yi);

const refBackwardData = (g: SparseConvGeometry, dy: Float32Array, w: Float32Array, mask: Float32Array): Ref =>
  refSum(g, mask, g.n * g.h * g.w * g.c, false, (_xi, yi, wi) => w[wi]! * dy[yi]!, (xi) => xi);

/** dense dW ⊙ mask: every tap summed, then the mask applied. */
function refBackwardWeights(g: SparseConvGeometry, x: Float32Array, dy: Float32Array, mask: Float32Array): Ref {
  const r = refSum(g, mask, g.kh * g.kw * g.c * g.o, true, (xi, yi) => x[xi]! * dy[yi]!, (_xi, _yi, wi) => wi);
  for (let i = 0; i < r.v.length; i++) if (!mask[i]) r.v[i] = r.abs[i] = 0;
  return r;
}

/** Float32 rounding of a sum of m terms stays below m·2⁻²⁴·Σ|terms|; allow a generous multiple. */
function expectMatches(got: Float32Array, ref: Ref, what: string): void {
  expect(got.length, what).toBe(ref.v.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = ref.v[i]!;
    const a = got[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`${what}: [${i}] = ${a}, expected ${e}`);
      continue;
    }
    const err = Math.abs(a - e) / (1e-5 * ref.abs[i]! + 1e-30);
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  if (worst > 1) throw new Error(`${what}: [${at}] = ${got[at]}, expected ${ref.v[at]} (error ${worst.toFixed(2)}× the bound)`);
}

// ---------------------------------------------------------------------------------------------------
// Layout conversions on the host (independent of the addon's transposes).

function toChwn(g: { n: number; h: number; w: number; c: number }, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < g.n; n++)
    for (let h = 0; h < g.h; h++)
      for (let w = 0; w < g.w; w++)
        for (let c = 0; c < g.c; c++) out[((c * g.h + h) * g.w + w) * g.n + n] = x[((n * g.h + h) * g.w + w) * g.c + c]!;
  return out;
}

function fromChwn(g: { n: number; h: number; w: number; c: number }, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < g.n; n++)
    for (let h = 0; h < g.h; h++)
      for (let w = 0; w < g.w; w++)
        for (let c = 0; c < g.c; c++) out[((n * g.h + h) * g.w + w) * g.c + c] = x[((c * g.h + h) * g.w + w) * g.n + n]!;
  return out;
}

function randomMask(r: () => number, size: number, density: number): Float32Array {
  const m = new Float32Array(size);
  for (let i = 0; i < size; i++) m[i] = r() < density ? 1 : 0;
  return m;
}

interface Case {
  name: string;
  g: SparseConvGeometry;
  density: number;
  layout: SparseLayout;
}

function cases(): Case[] {
  const out: Case[] = [];
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const shapes: Array<[number, number, 'same' | 'valid' | number]> = [
    [3, 1, 'same'], [3, 2, 1], [3, 2, 'same'], [1, 1, 'valid'], [1, 2, 'valid'], [3, 1, 'valid'], [7, 2, 3], [2, 2, 'valid'], [5, 1, 2],
  ];
  const densities = [0.01, 0.1, 0.5, 1];
  let i = 0;
  for (const [k, s, pad] of shapes) {
    for (const density of densities) {
      // Batch sizes straddle the 4/8/16-lane vectors (tails), spatial sizes are odd and even.
      const n = pick([1, 3, 5, 8, 16, 17]);
      const h = pick([5, 7, 8, 9, 12]);
      const w = pick([4, 6, 9, 11]);
      const c = pick([1, 3, 8, 13]);
      const o = pick([1, 5, 12, 19]);
      const g = sparseConvGeometry([n, h, w, c], [k, k, c, o], s, pad);
      const layout: SparseLayout = i++ % 2 === 0 ? 'nhwc' : 'chwn';
      out.push({ name: `x[${n},${h},${w},${c}] ${k}x${k}/${s} pad ${pad} o ${o} density ${density} ${layout}`, g, density, layout });
    }
  }
  const lin = sparseLinearGeometry(37, 23, 41);
  out.push({ name: 'linear 37 tokens 23->41 density 0.1 nhwc', g: lin, density: 0.1, layout: 'nhwc' });
  out.push({ name: 'linear 37 tokens 23->41 density 0.75 chwn', g: { ...lin }, density: 0.75, layout: 'chwn' });
  // Lines short enough that two share a tile (an odd count leaves one alone; tails in every line): the
  // 4×4 stage at batch 32 (8 AVX-512 vectors per line), strided and 1×1/2 backward phases.
  const paired: Array<[[number, number, number, number], number, number, 'same' | 'valid' | number]> = [
    [[5, 5, 3, 7], 3, 9, 'same'],
    [[6, 8, 2, 11], 3, 13, 1],
    [[32, 4, 4, 24], 3, 20, 1],
    [[8, 7, 4, 6], 1, 10, 'valid'],
  ];
  for (const [x, k, o, pad] of paired) {
    const s = k === 1 || x[1] === 8 ? 2 : 1;
    for (const density of [0.1, 1]) {
      const g = sparseConvGeometry(x, [k, k, x[3], o], s, pad);
      const layout: SparseLayout = i++ % 2 === 0 ? 'nhwc' : 'chwn';
      out.push({ name: `paired lines x[${x}] ${k}x${k}/${s} pad ${pad} o ${o} density ${density} ${layout}`, g, density, layout });
    }
  }
  return out;
}

function isas(): SparseIsa[] {
  if (!kernels) return [];
  const all: SparseIsa[] = ['avx512', 'avx2', 'scalar'];
  const usable: SparseIsa[] = [];
  for (const isa of all) {
    try {
      kernels.sparseSetIsa(isa);
      usable.push(isa);
    } catch {
      /* this CPU lacks it */
    }
  }
  kernels.sparseSetIsa('auto');
  return usable;
}

interface Fixture {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  mask: Float32Array;
  y: Ref;
  dx: Ref;
  dw: Ref;
}

// Inputs and float64 references of a case, computed once and shared by every ISA and tuning.
const fixtures = new Map<string, Fixture>();
function fixture(cs: Case): Fixture {
  const hit = fixtures.get(cs.name);
  if (hit) return hit;
  const { g, density } = cs;
  const r = rng(cs.name.length * 7919 + Math.round(density * 1000));
  const wSize = g.kh * g.kw * g.c * g.o;
  const x = randn(r, g.n * g.h * g.w * g.c);
  const w = randn(r, wSize);
  const dy = randn(r, g.n * g.outH * g.outW * g.o);
  const mask = randomMask(r, wSize, density);
  const f = { x, w, dy, mask, y: refForward(g, x, w, mask), dx: refBackwardData(g, dy, w, mask), dw: refBackwardWeights(g, x, dy, mask) };
  fixtures.set(cs.name, f);
  return f;
}

/** Blockings: the defaults, and the smallest (a block per channel and per row, 2-vector tiles) that takes every multi-block path. */
const tunings = [
  { name: 'default blocking', tuning: {} },
  { name: 'tiny blocks', tuning: { blockKb: 1, partialsKb: 1, tileVectors: 2 } },
] as const;

describe.skipIf(!kernels)('sparse kernels match a float64 reference of the masked convolution', () => {
  const k = kernels!;
  const defaults = kernels ? sparseTuning(kernels) : undefined;
  afterAll(() => {
    k.sparseSetIsa('auto');
    setSparseTuning(k, defaults!);
  });

  for (const isa of isas()) {
    for (const { name: tname, tuning } of tunings) {
      describe(`${isa}, ${tname}`, () => {
        for (const cs of cases()) {
          it(cs.name, () => {
            k.sparseSetIsa(isa);
            setSparseTuning(k, { ...defaults!, ...tuning });
            const { g, layout } = cs;
            const { x, w, dy, mask, ...ref } = fixture(cs);
            const xShape = { n: g.n, h: g.h, w: g.w, c: g.c };
            const yShape = { n: g.n, h: g.outH, w: g.outW, c: g.o };
            const wSize = w.length;
            const conv = new SparseConv(k, g, mask);
            expect(conv.nnz).toBe(mask.reduce((s, m) => s + m, 0));
            const inL = (t: Float32Array, s: typeof xShape) => (layout === 'chwn' ? toChwn(s, t) : t);
            const outL = (t: Float32Array, s: typeof xShape) => (layout === 'chwn' ? fromChwn(s, t) : t);
            const L = { x: layout, y: layout, dy: layout, dx: layout };
            const what = `${isa} ${tname} ${cs.name}`;

            const y = new Float32Array(dy.length).fill(NaN); // every element must be written
            conv.forward(w, inL(x, xShape), y, L);
            expectMatches(outL(y, yShape), ref.y, `${what}: forward`);

            const dx = new Float32Array(x.length).fill(NaN);
            conv.backwardData(w, inL(dy, yShape), dx, L);
            expectMatches(outL(dx, xShape), ref.dx, `${what}: dX`);

            const dw = new Float32Array(wSize).fill(NaN);
            conv.backwardWeights(inL(x, xShape), inL(dy, yShape), dw, L);
            expectMatches(dw, ref.dw, `${what}: dW`);
            for (let i = 0; i < wSize; i++) if (!mask[i]) expect(dw[i], 'dW off the mask').toBe(0);

            const dx2 = new Float32Array(x.length).fill(NaN);
            const dw2 = new Float32Array(wSize).fill(NaN);
            conv.backward(w, inL(x, xShape), inL(dy, yShape), dx2, dw2, L);
            expectMatches(outL(dx2, xShape), ref.dx, `${what}: fused dX`);
            expectMatches(dw2, ref.dw, `${what}: fused dW`);
          });
        }
      });
    }
  }

  it('layouts mix: nhwc in, chwn out and back', () => {
    const g = sparseConvGeometry([6, 7, 9, 5], [3, 3, 5, 11], 2, 'same');
    const r = rng(3);
    const x = randn(r, g.n * g.h * g.w * g.c);
    const w = randn(r, g.kh * g.kw * g.c * g.o);
    const mask = randomMask(r, w.length, 0.3);
    const conv = new SparseConv(k, g, mask);
    const y = new Float32Array(g.n * g.outH * g.outW * g.o);
    conv.forward(w, x, y, { x: 'nhwc', y: 'chwn' });
    expectMatches(fromChwn({ n: g.n, h: g.outH, w: g.outW, c: g.o }, y), refForward(g, x, w, mask), 'forward nhwc -> chwn');
    const back = new Float32Array(x.length);
    k.sparseTranspose(g.n, g.h, g.w, g.c, toChwn({ n: g.n, h: g.h, w: g.w, c: g.c }, x), back, false);
    expect(Array.from(back)).toEqual(Array.from(x));
  });

  it('forwardStaged: another plan of the same input geometry reads the input the last forward staged', () => {
    const g = sparseConvGeometry([5, 7, 6, 8], [3, 3, 8, 9], 2, 'same');
    const gOther = sparseConvGeometry([5, 7, 6, 8], [3, 3, 8, 9], 1, 'same');
    const r = rng(31);
    const x = randn(r, g.n * g.h * g.w * g.c);
    const xc = toChwn({ n: g.n, h: g.h, w: g.w, c: g.c }, x);
    const [w1, w2] = [randn(r, g.kh * g.kw * g.c * g.o), randn(r, g.kh * g.kw * g.c * g.o)];
    const [m1, m2] = [randomMask(r, w1.length, 0.3), randomMask(r, w1.length, 0.5)];
    const a = new SparseConv(k, g, m1);
    const b = new SparseConv(k, g, m2);
    const other = new SparseConv(k, gOther, m1);
    const y = new Float32Array(g.n * g.outH * g.outW * g.o);
    for (const layout of ['nhwc', 'chwn'] as const) {
      expect(a.forward(w1, layout === 'nhwc' ? x : xc, y, { x: layout }), 'a strided conv stages its input').toBe(true);
      expectMatches(y, refForward(g, x, w1, m1), `forward (${layout} x)`);
      b.forwardStaged(w2, y);
      expectMatches(y, refForward(g, x, w2, m2), `the second plan on the staged ${layout} x`);
      expect(() => other.forwardStaged(w1, new Float32Array(g.n * gOther.outH * gOther.outW * g.o)), 'another geometry').toThrow(/no input of this plan's geometry is staged/);
    }
    // A backward that stages an input for dW leaves nothing a forwardStaged may read.
    a.backwardWeights(x, new Float32Array(y.length), new Float32Array(w1.length));
    expect(() => b.forwardStaged(w2, y)).toThrow(/staged/);
    for (const c of [a, b, other]) c.release();
  });

  it('a plan rebuilt for a new mask equals a fresh plan', () => {
    const g = sparseConvGeometry([4, 9, 9, 12], [3, 3, 12, 10], 2, 1);
    const r = rng(11);
    const m1 = randomMask(r, g.kh * g.kw * g.c * g.o, 0.2);
    const m2 = randomMask(r, m1.length, 0.6);
    const rebuilt = new SparseConv(k, g, m1);
    rebuilt.setMask(m2);
    const fresh = new SparseConv(k, g, m2);
    expect(rebuilt.nnz).toBe(fresh.nnz);
    expect(rebuilt.describe().map((a) => Array.from(a))).toEqual(fresh.describe().map((a) => Array.from(a)));
    // ... and computes with the new mask.
    const x = randn(r, g.n * g.h * g.w * g.c);
    const w = randn(r, m1.length);
    const y = new Float32Array(g.n * g.outH * g.outW * g.o);
    rebuilt.forward(w, x, y);
    expectMatches(y, refForward(g, x, w, m2), 'forward after setMask');
  });

  it('reuses the gathered values when w is null; reads 64-byte-aligned CHWN inputs of 1×1 convs in place', () => {
    const g = sparseConvGeometry([16, 5, 5, 24], [1, 1, 24, 20], 1, 'valid');
    const r = rng(21);
    const x = randn(r, g.n * g.h * g.w * g.c);
    const w = randn(r, g.c * g.o);
    const dy = randn(r, g.n * g.h * g.w * g.o);
    const mask = randomMask(r, w.length, 0.3);
    const conv = new SparseConv(k, g, mask);
    const y = new Float32Array(dy.length);
    expect(() => conv.forward(null, x, y)).toThrow(/sparseConvForward: forward: no weight values yet/);
    conv.gather(w);
    conv.forward(null, x, y);
    expectMatches(y, refForward(g, x, w, mask), 'forward with gathered values');
    // CHWN operands placed on a 64-byte boundary take the in-place path.
    const aligned = (t: Float32Array): Float32Array => {
      const out = alignedFloat32Array(k, t.length);
      expect(k.sparseAlignment(out)).toBe(0);
      out.set(t);
      return out;
    };
    const xs = { n: g.n, h: g.h, w: g.w, c: g.c };
    const ys = { n: g.n, h: g.outH, w: g.outW, c: g.o };
    const xc = aligned(toChwn(xs, x));
    const dyc = aligned(toChwn(ys, dy));
    const yc = new Float32Array(y.length);
    conv.forward(null, xc, yc, { x: 'chwn', y: 'chwn' });
    expectMatches(fromChwn(ys, yc), refForward(g, x, w, mask), 'forward reading x in place');
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    conv.backward(null, xc, dyc, dx, dw, { x: 'chwn', dy: 'chwn', dx: 'chwn' });
    expectMatches(fromChwn(xs, dx), refBackwardData(g, dy, w, mask), 'fused dX reading dy in place');
    expectMatches(dw, refBackwardWeights(g, x, dy, mask), 'fused dW reading x in place');
    conv.backwardWeights(xc, dyc, dw, { x: 'chwn', dy: 'chwn' });
    expectMatches(dw, refBackwardWeights(g, x, dy, mask), 'dW reading x in place');
    // A new mask drops the values: they belonged to the old structures.
    conv.setMask(randomMask(r, w.length, 0.5));
    expect(() => conv.backwardData(null, dy, new Float32Array(x.length))).toThrow(/no weight values yet/);
  });

  it('propagates NaN and Inf through kept weights only (padding reads zeros)', () => {
    const g = sparseConvGeometry([3, 6, 6, 4], [3, 3, 4, 6], 1, 'same');
    const r = rng(5);
    const x = randn(r, g.n * g.h * g.w * g.c);
    x[xAt(g, 1, 2, 3, 1)] = NaN;
    x[xAt(g, 2, 0, 0, 2)] = Infinity;
    x[xAt(g, 0, 5, 5, 3)] = -Infinity;
    const w = randn(r, g.kh * g.kw * g.c * g.o);
    const mask = randomMask(r, w.length, 0.5);
    const conv = new SparseConv(k, g, mask);
    const y = new Float32Array(g.n * g.outH * g.outW * g.o);
    conv.forward(w, x, y);
    const ref = refForward(g, x, w, mask);
    expect(ref.v.some((v) => Number.isNaN(v))).toBe(true);
    expect(ref.v.some((v) => Number.isFinite(v))).toBe(true);
    expectMatches(y, ref, 'forward with NaN/Inf');
    const dy = randn(r, y.length);
    dy[yAt(g, 0, 1, 1, 2)] = NaN;
    const dx = new Float32Array(x.length);
    conv.backwardData(w, dy, dx);
    expectMatches(dx, refBackwardData(g, dy, w, mask), 'dX with NaN');
    const dw = new Float32Array(w.length);
    conv.backwardWeights(x, dy, dw);
    expectMatches(dw, refBackwardWeights(g, x, dy, mask), 'dW with NaN/Inf');
  });

  it('release frees a plan at once: later calls fail naming it, a second release is harmless', () => {
    const g = sparseConvGeometry([1, 4, 4, 2], [3, 3, 2, 2], 1, 'same');
    const mask = new Float32Array(3 * 3 * 2 * 2).fill(1);
    const conv = new SparseConv(k, g, mask);
    expect(conv.nnz).toBe(36);
    conv.release();
    expect(() => conv.nnz).toThrow(/sparseConvNnz: plan was released/);
    expect(() => conv.forward(new Float32Array(36), new Float32Array(32), new Float32Array(32))).toThrow(/sparseConvForward: plan was released/);
    expect(() => conv.release()).not.toThrow();
  });

  it('rejects bad input with errors naming the kernel and the argument', () => {
    const g = sparseConvGeometry([2, 5, 5, 3], [3, 3, 3, 4], 1, 'same');
    const mask = new Float32Array(3 * 3 * 3 * 4).fill(1);
    const conv = new SparseConv(k, g, mask);
    const w = new Float32Array(mask.length);
    const x = new Float32Array(2 * 5 * 5 * 3);
    const y = new Float32Array(2 * 5 * 5 * 4);
    expect(() => conv.forward(w, new Float32Array(7), y)).toThrow(/sparseConvForward: x must hold 150 floats \(nhwc \[2, 5, 5, 3\]\), got 7/);
    expect(() => conv.forward(w, x, new Float32Array(3))).toThrow(/sparseConvForward: y must hold 200 floats/);
    expect(() => conv.forward(w, x, x as Float32Array)).toThrow(/sparseConvForward: y must hold/);
    expect(() => conv.backwardWeights(x, y, new Float32Array(1))).toThrow(/sparseConvBackwardWeights: dw must hold 108 floats \(filter \[3, 3, 3, 4\]\)/);
    expect(() => k.sparseConvForward({} as never, w, x, 'nhwc', y, 'nhwc')).toThrow(/sparseConvForward: plan must come from sparseConvCreate/);
    expect(() => k.sparseConvForward((conv as unknown as { plan: never }).plan, w, x, 'nchw' as SparseLayout, y, 'nhwc')).toThrow(
      /sparseConvForward: xLayout must be 'nhwc' or 'chwn', got 'nchw'/,
    );
    expect(() => new SparseConv(k, { ...g, outH: 9 }, mask)).toThrow(/sparseConvCreate: the output is larger than the padded input allows/);
    expect(() => new SparseConv(k, { ...g, padTop: 3 }, mask)).toThrow(/sparseConvCreate: padding must lie in/);
    expect(() => new SparseConv(k, g, new Float32Array(5))).toThrow(/sparseConvCreate: mask must hold 108 floats/);
    expect(() => k.sparseSetTuning(0, 1, 0)).toThrow(/sparseSetTuning: .*blockKb and partialsKb must be at least 1/);
    // In-place use would read what it already overwrote.
    const same = new Float32Array(150);
    const g1 = sparseConvGeometry([2, 5, 5, 3], [1, 1, 3, 3], 1, 'valid');
    const c1 = new SparseConv(k, g1, new Float32Array(9).fill(1));
    expect(() => c1.forward(new Float32Array(9), same, same)).toThrow(/sparseConvForward: y overlaps x/);
  });
});
