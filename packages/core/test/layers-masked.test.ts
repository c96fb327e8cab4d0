/**
 * MaskedDense / MaskedConv2D against plain-JS references, the Bernoulli mask's statistics, the
 * MaskedParam contract, serialization round trips and masked gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bernoulliMask,
  collectMaskedParams,
  computeFans,
  kaimingNormal,
  MaskedConv2D,
  MaskedDense,
  type MaskedConv2DArgs,
} from '../src/layers/index.js';
import { conv2dReference, denseReference, elementwiseProduct, maxAbsDiff } from './helpers/reference.js';
import { normalizeConfig, saveAndLoad, seededNormal, useCpu } from './helpers/tf-helpers.js';

beforeAll(useCpu);

function sym(layer: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}

/** float32 matmul/conv vs float64 JS: a few ulps of the accumulated magnitude. */
const FORWARD_TOL = 1e-5;

describe('MaskedDense forward', () => {
  it('equals x · (kernel ⊙ mask) + bias computed in JS, with a random bias', () => {
    const layer = new MaskedDense({
      units: 7,
      sparsity: 0.6,
      role: 'parallel-branch',
      maskSeed: 3,
      biasInitializer: 'randomNormal',
    });
    const x = seededNormal([4, 5], 11);
    const y = layer.apply(x) as tf.Tensor;
    const bias = layer.getWeights().find((w) => w.shape.length === 1)!;
    const w = elementwiseProduct(layer.kernelVariable().dataSync(), layer.maskVariable().dataSync());
    const expected = denseReference(x.dataSync(), 4, w, 5, 7, bias.dataSync());
    expect(y.shape).toEqual([4, 7]);
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(FORWARD_TOL);
  });

  it('applies to rank-3 inputs along the last axis, with an activation', () => {
    const layer = new MaskedDense({ units: 3, sparsity: 0.5, role: 'wide-weight', maskSeed: 5, activation: 'relu', useBias: false });
    const x = seededNormal([2, 3, 4], 12);
    const y = layer.apply(x) as tf.Tensor;
    const w = elementwiseProduct(layer.kernelVariable().dataSync(), layer.maskVariable().dataSync());
    const expected = denseReference(x.dataSync(), 6, w, 4, 3).map((v) => Math.max(0, v));
    expect(y.shape).toEqual([2, 3, 3]);
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(FORWARD_TOL);
  });

  it('stores the kernel already multiplied by the mask (dense init, then masked: docs/sparse-training.md#mask-init)', () => {
    const layer = new MaskedDense({ units: 16, sparsity: 0.75, role: 'wide-weight', maskSeed: 9 });
    layer.apply(tf.zeros([1, 16]));
    const k = layer.kernelVariable().dataSync();
    const m = layer.maskVariable().dataSync();
    for (let i = 0; i < k.length; i++) if (m[i] === 0) expect(Math.abs(k[i]!)).toBe(0);
    expect(Array.from(m).every((v) => v === 0 || v === 1)).toBe(true);
  });
});

describe('MaskedConv2D forward', () => {
  const cases: Array<{ title: string; args: Partial<MaskedConv2DArgs>; input: [number, number, number, number]; filters: number; k: [number, number] }> = [
    { title: '3×3 same stride 1', args: { padding: 'same' }, input: [2, 5, 5, 3], filters: 4, k: [3, 3] },
    { title: '3×3 same stride 2 on odd 7×7', args: { padding: 'same', strides: 2 }, input: [1, 7, 7, 2], filters: 3, k: [3, 3] },
    { title: '3×3 same stride 2 on even 6×6 (TF pads bottom/right)', args: { padding: 'same', strides: 2 }, input: [1, 6, 6, 2], filters: 3, k: [3, 3] },
    { title: '3×2 valid strides (2,1)', args: { padding: 'valid', strides: [2, 1] }, input: [2, 7, 6, 3], filters: 5, k: [3, 2] },
    { title: '1×1 valid stride 2', args: { padding: 'valid', strides: 2 }, input: [1, 5, 5, 4], filters: 2, k: [1, 1] },
    { title: '3×3 same dilation 2', args: { padding: 'same', dilationRate: 2 }, input: [1, 7, 7, 2], filters: 2, k: [3, 3] },
    { title: '5×5 valid', args: { padding: 'valid', useBias: true, biasInitializer: 'randomNormal' }, input: [1, 9, 8, 2], filters: 3, k: [5, 5] },
  ];
  for (const c of cases) {
    it(`equals a JS conv of kernel ⊙ mask: ${c.title}`, () => {
      const layer = new MaskedConv2D({ filters: c.filters, kernelSize: c.k, sparsity: 0.5, role: 'factorized-u', maskSeed: 21, useBias: false, ...c.args });
      const x = seededNormal(c.input, 31);
      const y = layer.apply(x) as tf.Tensor;
      const w = elementwiseProduct(layer.kernelVariable().dataSync(), layer.maskVariable().dataSync());
      const bias = layer.useBias ? layer.getWeights().find((t) => t.shape.length === 1)!.dataSync() : undefined;
      const strides = typeof c.args.strides === 'number' ? [c.args.strides, c.args.strides] : (c.args.strides ?? [1, 1]);
      const dilation = typeof c.args.dilationRate === 'number' ? [c.args.dilationRate, c.args.dilationRate] : [1, 1];
      const ref = conv2dReference(
        x.dataSync(),
        c.input,
        w,
        [c.k[0], c.k[1], c.input[3], c.filters],
        strides as [number, number],
        c.args.padding ?? 'same',
        dilation as [number, number],
        bias,
      );
      expect(y.shape).toEqual(ref.shape);
      expect(layer.computeOutputShape([null, c.input[1], c.input[2], c.input[3]])).toEqual([null, ...ref.shape.slice(1)]);
      expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(FORWARD_TOL);
    });
  }
});

describe('Bernoulli mask', () => {
  // The count of ones K of n independent Bernoulli(p) draws has mean np and sd √(np(1−p)). We
  // require |K − np| ≤ 5 sd: a correct sampler fails this with probability < 6e-7 (normal tail),
  // and the seeds are fixed, so the test is deterministic.
  for (const s of [0.5, 0.75, 0.9]) {
    it(`keeps ≈ (1 − s)·n weights at s = ${s} (binomial 5σ bound), on a 3×3×64×64 conv`, () => {
      const layer = new MaskedConv2D({ filters: 64, kernelSize: 3, sparsity: s, role: 'parallel-branch', maskSeed: 100 });
      layer.apply(tf.zeros([1, 4, 4, 64]));
      const m = layer.maskVariable().dataSync();
      const n = m.length;
      const p = 1 - s;
      const ones = Array.from(m).reduce((a, v) => a + v, 0);
      expect(n).toBe(36864);
      expect(Math.abs(ones - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
      // Independent per element, not an exact count per output channel (docs/sparse-training.md#mask-init): the per-filter
      // counts (n = 576 each) must vary.
      const perFilter = new Set<number>();
      for (let co = 0; co < 64; co++) {
        let c = 0;
        for (let i = co; i < n; i += 64) c += m[i]!;
        perFilter.add(c);
      }
      expect(perFilter.size).toBeGreaterThan(5);
    });
  }

  it('is reproducible with a seed and differs across seeds', () => {
    const a = bernoulliMask([50, 40], 0.3, 7).dataSync();
    const b = bernoulliMask([50, 40], 0.3, 7).dataSync();
    const c = bernoulliMask([50, 40], 0.3, 8).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, c)).toBe(1);
    const l1 = new MaskedDense({ units: 30, sparsity: 0.5, role: 'wide-weight', maskSeed: 42 });
    const l2 = new MaskedDense({ units: 30, sparsity: 0.5, role: 'wide-weight', maskSeed: 42 });
    l1.apply(tf.zeros([1, 20]));
    l2.apply(tf.zeros([1, 20]));
    expect(Array.from(l1.maskVariable().dataSync())).toEqual(Array.from(l2.maskVariable().dataSync()));
  });

  it('is all ones at s = 0 and when masked is false', () => {
    const dense0 = new MaskedDense({ units: 8, sparsity: 0, role: 'wide-weight' });
    const unmasked = new MaskedConv2D({ filters: 4, kernelSize: 3, sparsity: 0.9, role: 'doped-u', masked: false });
    dense0.apply(tf.zeros([1, 8]));
    unmasked.apply(tf.zeros([1, 3, 3, 2]));
    expect(Array.from(dense0.maskVariable().dataSync()).every((v) => v === 1)).toBe(true);
    expect(Array.from(unmasked.maskVariable().dataSync()).every((v) => v === 1)).toBe(true);
    expect(unmasked.maskedParams()).toEqual([]);
    expect(dense0.maskedParams()).toHaveLength(1);
  });
});

describe('resetMask', () => {
  it('redraws the mask at a new sparsity (e.g. from ERK) over a fresh dense init (one mask, not two), and is saved', async () => {
    const input = tfl.input({ shape: [40] });
    const init = () => tfl.initializers.glorotUniform({ seed: 3 });
    const fc = new MaskedDense({ name: 'fc', units: 50, sparsity: 0.5, role: 'wide-weight', maskSeed: 1, kernelInitializer: init() });
    const model = tfl.model({ inputs: input, outputs: sym(fc, input) });
    // The dense init, from an unmasked twin with the same seeded initializer.
    const twin = new MaskedDense({ units: 50, sparsity: 0, role: 'wide-weight', kernelInitializer: init() });
    twin.apply(tf.zeros([1, 40]));
    const dense = twin.kernelVariable().dataSync().slice();
    fc.resetMask(0.9, 5);
    const m = fc.maskVariable().dataSync();
    const k = fc.kernelVariable().dataSync();
    const n = m.length;
    // Binomial 5σ bound at p = 0.1, n = 2000 (see the Bernoulli tests).
    expect(Math.abs(Array.from(m).reduce((a, v) => a + v, 0) - 0.1 * n)).toBeLessThanOrEqual(5 * Math.sqrt(n * 0.1 * 0.9));
    // Kept positions hold the dense init, even those the old mask had dropped; dropped ones are 0.
    for (let i = 0; i < n; i++) expect(k[i]! + 0).toBe(m[i] === 1 ? dense[i]! : 0);
    expect(fc.maskedParams()[0]!.sparsity).toBe(0.9);
    const loaded = await saveAndLoad(model);
    const p = collectMaskedParams(loaded)[0]!;
    expect(p.sparsity).toBe(0.9);
    expect(Array.from(p.mask.dataSync())).toEqual(Array.from(m));
  });
});

describe('MaskedParam contract', () => {
  it('exposes the kernel and mask tf.Variables; the mask is a saved, non-trainable weight', () => {
    const input = tfl.input({ shape: [6] });
    const layer = new MaskedDense({ name: 'fc1', units: 4, sparsity: 0.5, role: 'factorized-v', maskSeed: 1 });
    const model = tfl.model({ inputs: input, outputs: sym(layer, input) });
    const [p] = layer.maskedParams();
    expect(p!.name).toBe('fc1/kernel');
    expect(p!.layerName).toBe('fc1');
    expect(p!.role).toBe('factorized-v');
    expect(p!.sparsity).toBe(0.5);
    expect(p!.weight).toBe(model.trainableWeights.find((w) => w.name === 'fc1/kernel')!.read());
    expect(p!.weight.trainable).toBe(true);
    expect(p!.mask.trainable).toBe(false);
    expect(model.trainableWeights.map((w) => w.name)).toEqual(['fc1/kernel', 'fc1/bias']);
    expect(model.nonTrainableWeights.map((w) => w.name)).toEqual(['fc1/mask']);
  });

  it("returns nothing for role 'dense-weight'", () => {
    const layer = new MaskedDense({ units: 4, sparsity: 0.5, role: 'dense-weight' });
    layer.apply(tf.zeros([1, 3]));
    expect(layer.masked).toBe(false);
    expect(layer.maskedParams()).toEqual([]);
  });

  it('collectMaskedParams walks nested models, in layer order, each shared layer once', () => {
    const innerIn = tfl.input({ shape: [5] });
    const innerLayer = new MaskedDense({ name: 'inner_fc', units: 5, sparsity: 0.5, role: 'wide-weight' });
    const inner = tfl.model({ inputs: innerIn, outputs: sym(innerLayer, innerIn), name: 'inner' });
    const input = tfl.input({ shape: [5] });
    const first = sym(new MaskedDense({ name: 'outer_a', units: 5, sparsity: 0.9, role: 'parallel-branch' }), input);
    const nested = inner.apply(first) as tfl.SymbolicTensor;
    const again = inner.apply(nested) as tfl.SymbolicTensor; // the inner model used twice
    const plain = sym(tfl.layers.dense({ name: 'head', units: 2 }), again);
    const last = sym(new MaskedDense({ name: 'outer_b', units: 3, sparsity: 0.5, role: 'dense-weight' }), plain);
    const model = tfl.model({ inputs: input, outputs: last });
    const params = collectMaskedParams(model);
    expect(params.map((p) => [p.layerName, p.role, p.sparsity])).toEqual([
      ['outer_a', 'parallel-branch', 0.9],
      ['inner_fc', 'wide-weight', 0.5],
    ]);
  });
});

describe('serialization round trip', () => {
  it('MaskedDense and MaskedConv2D: same config, outputs and masks after save → load', async () => {
    const input = tfl.input({ shape: [6, 6, 3] });
    let h = sym(
      new MaskedConv2D({ name: 'c1', filters: 4, kernelSize: [3, 2], strides: 2, padding: 'valid', sparsity: 0.5, role: 'parallel-branch', maskSeed: 1, useBias: true, biasInitializer: 'randomNormal', activation: 'relu' }),
      input,
    );
    h = sym(new MaskedConv2D({ name: 'c2', filters: 3, kernelSize: 3, dilationRate: 2, sparsity: 0.75, role: 'doped-u', masked: false, kernelInitializer: kaimingNormal({ mode: 'fanIn', seed: 4 }) }), h);
    h = sym(tfl.layers.flatten(), h);
    h = sym(new MaskedDense({ name: 'fc', units: 5, sparsity: 0.9, role: 'wide-weight', activation: 'gelu_new', kernelInitializer: 'heNormal', biasInitializer: 'randomUniform' }), h);
    const model = tfl.model({ inputs: input, outputs: h });
    const loaded = await saveAndLoad(model);
    const x = seededNormal([2, 6, 6, 3], 5);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    for (const name of ['c1', 'c2', 'fc']) {
      const a = model.getLayer(name);
      const b = loaded.getLayer(name);
      expect(b.getClassName()).toBe(a.getClassName());
      // tfjs' own initializers serialize an unset seed as undefined and load it back as null.
      expect(normalizeConfig(b.getConfig())).toEqual(normalizeConfig(a.getConfig()));
      const wa = a.getWeights();
      const wb = b.getWeights();
      expect(wb.length).toBe(wa.length);
      wa.forEach((w, i) => expect(Array.from(wb[i]!.dataSync())).toEqual(Array.from(w.dataSync())));
    }
    expect(collectMaskedParams(loaded).map((p) => [p.name, p.role, p.sparsity])).toEqual(
      collectMaskedParams(model).map((p) => [p.name, p.role, p.sparsity]),
    );
    for (const [pa, pb] of collectMaskedParams(model).map((p, i) => [p, collectMaskedParams(loaded)[i]!] as const)) {
      expect(Array.from(pb.mask.dataSync())).toEqual(Array.from(pa.mask.dataSync()));
    }
  });
});

describe('gradients and training', () => {
  it('masked kernel positions get exactly zero gradient; unmasked ones get x_i·g_o', () => {
    const layer = new MaskedDense({ units: 3, sparsity: 0.5, role: 'wide-weight', maskSeed: 77, useBias: false });
    const x = seededNormal([1, 6], 3);
    layer.apply(x);
    const kernel = layer.kernelVariable();
    // L = Σ_o y_o · c_o with c = (1, 2, 3): ∂L/∂W[i,o] = x_i · c_o · mask[i,o].
    const c = tf.tensor2d([[1, 2, 3]]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, c)) as tf.Scalar, [kernel]);
    const g = grads[kernel.name]!.dataSync();
    const m = layer.maskVariable().dataSync();
    const xs = x.dataSync();
    let masked = 0;
    for (let i = 0; i < 6; i++)
      for (let o = 0; o < 3; o++) {
        const idx = i * 3 + o;
        if (m[idx] === 0) {
          masked++;
          expect(Math.abs(g[idx]!)).toBe(0);
        } else expect(g[idx]).toBeCloseTo(xs[i]! * (o + 1), 5);
      }
    expect(masked).toBeGreaterThan(0);
  });

  it('trains with optimizer.minimize over model.trainableWeights; masked weights stay 0, mask unchanged', () => {
    const input = tfl.input({ shape: [4, 4, 2] });
    const conv = new MaskedConv2D({ name: 'c', filters: 3, kernelSize: 3, sparsity: 0.5, role: 'parallel-branch', maskSeed: 2 });
    let h = sym(conv, input);
    h = sym(tfl.layers.flatten(), h);
    const fc = new MaskedDense({ name: 'fc', units: 2, sparsity: 0.5, role: 'wide-weight', maskSeed: 3 });
    const model = tfl.model({ inputs: input, outputs: sym(fc, h) });
    const x = seededNormal([8, 4, 4, 2], 9);
    const target = seededNormal([8, 2], 10);
    const optimizer = tf.train.momentum(0.05, 0.9);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(vars.some((v) => v.name.includes('mask'))).toBe(false);
    const masksBefore = [conv, fc].map((l) => Array.from(l.maskVariable().dataSync()));
    const loss = () => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const first = loss().dataSync()[0]!;
    for (let step = 0; step < 20; step++) optimizer.minimize(loss, false, vars);
    expect(loss().dataSync()[0]!).toBeLessThan(first * 0.7);
    [conv, fc].forEach((l, i) => {
      const m = l.maskVariable().dataSync();
      expect(Array.from(m)).toEqual(masksBefore[i]);
      const k = l.kernelVariable().dataSync();
      for (let j = 0; j < k.length; j++) if (m[j] === 0) expect(Math.abs(k[j]!)).toBe(0);
    });
  });
});

describe('model.fit', () => {
  it('compiles and fits; the mask is untouched and masked weights stay 0', async () => {
    const input = tfl.input({ shape: [5] });
    const fc = new MaskedDense({ name: 'fc', units: 1, sparsity: 0.5, role: 'wide-weight', maskSeed: 4 });
    const model = tfl.model({ inputs: input, outputs: sym(fc, input) });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const mask = Array.from(fc.maskVariable().dataSync());
    const history = await model.fit(seededNormal([16, 5], 1), seededNormal([16, 1], 2), { epochs: 5, batchSize: 8, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    expect(Array.from(fc.maskVariable().dataSync())).toEqual(mask);
    const k = fc.kernelVariable().dataSync();
    mask.forEach((m, i) => m === 0 && expect(Math.abs(k[i]!)).toBe(0));
  });
});

describe('initializers', () => {
  it("tfjs' fans of a [kh,kw,Cin,Cout] kernel match PyTorch's (fan_out = Cout·kh·kw)", () => {
    expect(computeFans([3, 3, 64, 128])).toEqual([9 * 64, 9 * 128]);
    expect(computeFans([20, 30])).toEqual([20, 30]);
  });

  it('kaimingNormal(fanOut) has PyTorch std √(2/fan_out); tfjs varianceScaling(normal) is truncated, ≈0.88×', () => {
    const shape = [3, 3, 64, 128];
    const expectedStd = Math.sqrt(2 / (9 * 128));
    const std = (t: tf.Tensor) => Math.sqrt(tf.moments(t).variance.dataSync()[0]!);
    // n = 73 728 samples: the sample sd's relative error is ≈ 1/√(2n) = 0.26 %; allow 2 %.
    const ours = std((kaimingNormal({ seed: 1 }) as unknown as { apply(s: number[]): tf.Tensor }).apply(shape));
    expect(Math.abs(ours / expectedStd - 1)).toBeLessThan(0.02);
    const tfjs = std(tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: 1 }).apply(shape));
    expect(tfjs / expectedStd).toBeLessThan(0.9); // 2σ-truncated N(0,1) has sd 0.8796
  });
});
