/**
 * Sparse-IFT blocks (sparseIftDense / sparseIftConv2D): weight shapes against hand-computed values
 * (docs/reference-values.md#cifar-100-resnet-18), forward against JS references, save/load round trips, and finite-difference
 * gradient checks for every family on a linear and a conv layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Family, TensorRole } from '../src/isoflop.js';
import {
  collectMaskedParams,
  MaskedConv2D,
  MaskedDense,
  MaskedKernelLayer,
  sparseIftConv2D,
  sparseIftDense,
  TENSOR_ROLES,
  type SparseIftConv2DOptions,
  type SparseIftDenseOptions,
} from '../src/layers/index.js';
import { addArrays, conv2dReference, denseReference, elementwiseProduct, maxAbsDiff } from './helpers/reference.js';
import { finiteDifferences, sampleIndices, saveAndLoad, seededNormal, useCpu } from './helpers/tf-helpers.js';

beforeAll(useCpu);

const FAMILIES: Family[] = ['dense', 'sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'];

function denseBlock(din: number, options: SparseIftDenseOptions): tfl.LayersModel {
  const input = tfl.input({ shape: [din] });
  return tfl.model({ inputs: input, outputs: sparseIftDense(input, options) });
}

function convBlock(inShape: [number, number, number], options: SparseIftConv2DOptions): tfl.LayersModel {
  const input = tfl.input({ shape: inShape });
  return tfl.model({ inputs: input, outputs: sparseIftConv2D(input, options) });
}

/** [role, masked, kernel shape] of every masked-kernel layer, in plan order (role, then name). */
function kernels(model: tfl.LayersModel): Array<[TensorRole, boolean, number[]]> {
  return model.layers
    .filter((l): l is MaskedKernelLayer => l instanceof MaskedKernelLayer)
    .sort((a, b) => TENSOR_ROLES.indexOf(a.role) - TENSOR_ROLES.indexOf(b.role) || a.name.localeCompare(b.name))
    .map((l) => [l.role, l.masked, l.kernelVariable().shape]);
}

function layerOf(model: tfl.LayersModel, name: string): MaskedKernelLayer {
  return model.getLayer(name) as unknown as MaskedKernelLayer;
}

describe('block shapes match hand-computed plans (docs/reference-values.md#cifar-100-resnet-18)', () => {
  // Cin = Cout = 64, 3×3, s = 0.5: Din = 9·64 = 576, Dout = 64.
  //   SP: k = round(1/0.5) = 2 branches of 3·3·64·64.
  //   SF: d = ceil(576·64 / (0.5·(576 + 64))) = ceil(36864/320) = ceil(115.2) = 116.
  //   SF u-only: d = ceil(36864 / (0.5·576 + 64)) = ceil(104.7) = 105.
  //   SD: r = floor(0.5·36864 / 640) = floor(28.8) = 28.
  const base = { kernelSize: 3, sparsity: 0.5, name: 'b' } as const;
  it('dense: one plain Conv2D 3×3×64×64, no masks', () => {
    const m = convBlock([8, 8, 64], { ...base, family: 'dense', filters: 64 });
    expect(kernels(m)).toEqual([]);
    expect(m.getLayer('b').getClassName()).toBe('Conv2D');
    expect(m.getLayer('b').getWeights().map((w) => w.shape)).toEqual([[3, 3, 64, 64]]);
    expect(collectMaskedParams(m)).toEqual([]);
  });
  it('sparse-wide: one masked conv of the width the caller passes (90 at s = 0.5)', () => {
    const m = convBlock([8, 8, 90], { ...base, family: 'sparse-wide', filters: 90 });
    expect(kernels(m)).toEqual([['wide-weight', true, [3, 3, 90, 90]]]);
  });
  it('sparse-parallel: 2 masked branches of 3×3×64×64, each with its own BN', () => {
    const m = convBlock([8, 8, 64], { ...base, family: 'sparse-parallel', filters: 64 });
    expect(kernels(m)).toEqual([
      ['parallel-branch', true, [3, 3, 64, 64]],
      ['parallel-branch', true, [3, 3, 64, 64]],
    ]);
    expect(m.layers.filter((l) => l.getClassName() === 'SparseIftBatchNorm')).toHaveLength(2);
  });
  it('sparse-factorized: U 3×3×64×116, BN(116) + ReLU, V 1×1×116×64, both masked', () => {
    const m = convBlock([8, 8, 64], { ...base, family: 'sparse-factorized', filters: 64 });
    expect(kernels(m)).toEqual([
      ['factorized-u', true, [3, 3, 64, 116]],
      ['factorized-v', true, [1, 1, 116, 64]],
    ]);
    expect(m.getLayer('b_mid_bn').getWeights()[0]!.shape).toEqual([116]);
    expect(m.getLayer('b_mid_relu').getClassName()).toBe('Activation');
  });
  it('sparse-factorized uOnly: d = 105, V dense', () => {
    const m = convBlock([8, 8, 64], { ...base, family: 'sparse-factorized', filters: 64, factorizedUOnly: true });
    expect(kernels(m)).toEqual([
      ['factorized-u', true, [3, 3, 64, 105]],
      ['factorized-v', false, [1, 1, 105, 64]],
    ]);
  });
  it('sparse-doped: masked 3×3×64×64 + dense U 3×3×64×28, V 1×1×28×64; maskLowRank masks U, V', () => {
    const m = convBlock([8, 8, 64], { ...base, family: 'sparse-doped', filters: 64 });
    expect(kernels(m)).toEqual([
      ['doped-sparse', true, [3, 3, 64, 64]],
      ['doped-u', false, [3, 3, 64, 28]],
      ['doped-v', false, [1, 1, 28, 64]],
    ]);
    expect(collectMaskedParams(m).map((p) => p.role)).toEqual(['doped-sparse']);
    const released = convBlock([8, 8, 64], { ...base, name: 'r', family: 'sparse-doped', filters: 64, dopedMaskLowRank: true });
    expect(kernels(released).map(([role, masked]) => [role, masked])).toEqual([
      ['doped-sparse', true],
      ['doped-u', true],
      ['doped-v', true],
    ]);
  });
  it('stride 2, Cin 64 → Cout 128, s = 0.75 (docs/reference-values.md#cifar-100-resnet-18: SF d = 419, SD r = 78, SP 4 branches)', () => {
    const opts = { kernelSize: 3, strides: 2, sparsity: 0.75, filters: 128 } as const;
    const sf = convBlock([8, 8, 64], { ...opts, family: 'sparse-factorized', name: 'sf' });
    expect(kernels(sf).map((k) => k[2])).toEqual([[3, 3, 64, 419], [1, 1, 419, 128]]);
    expect(layerOf(sf, 'sf_u').getConfig()['strides']).toEqual([2, 2]);
    expect(layerOf(sf, 'sf_v').getConfig()['strides']).toEqual([1, 1]);
    expect(sf.outputs[0]!.shape).toEqual([null, 4, 4, 128]);
    const sd = convBlock([8, 8, 64], { ...opts, family: 'sparse-doped', name: 'sd' });
    expect(kernels(sd).map((k) => k[2])).toEqual([[3, 3, 64, 128], [3, 3, 64, 78], [1, 1, 78, 128]]);
    expect(sd.outputs[0]!.shape).toEqual([null, 4, 4, 128]);
    expect(['sd_sparse', 'sd_u', 'sd_v'].map((n) => layerOf(sd, n).getConfig()['strides'])).toEqual([[2, 2], [2, 2], [1, 1]]);
    const sp = convBlock([8, 8, 64], { ...opts, family: 'sparse-parallel', name: 'sp' });
    expect(kernels(sp)).toHaveLength(4);
    expect(sp.outputs[0]!.shape).toEqual([null, 4, 4, 128]);
  });
  it('linear Din = 12 → Dout = 20, s = 0.75: SP 4, SF d = 30 (u-only 11), SD r = 5', () => {
    // SF: ceil(240 / (0.25·32)) = 30; u-only: ceil(240 / (0.25·12 + 20)) = ceil(10.43) = 11;
    // SD: floor(0.75·240 / 32) = floor(5.625) = 5.
    const opts = { units: 20, sparsity: 0.75 } as const;
    expect(kernels(denseBlock(12, { ...opts, family: 'sparse-parallel', name: 'sp' })).map((k) => k[2])).toEqual(
      Array(4).fill([12, 20]),
    );
    expect(kernels(denseBlock(12, { ...opts, family: 'sparse-factorized', name: 'sf' })).map((k) => k[2])).toEqual([[12, 30], [30, 20]]);
    expect(kernels(denseBlock(12, { ...opts, family: 'sparse-factorized', name: 'sfu', factorizedUOnly: true }))).toEqual([
      ['factorized-u', true, [12, 11]],
      ['factorized-v', false, [11, 20]],
    ]);
    expect(kernels(denseBlock(12, { ...opts, family: 'sparse-doped', name: 'sd' })).map((k) => k[2])).toEqual([[12, 20], [12, 5], [5, 20]]);
  });
  it('sparse-doped with rank 0 keeps only the sparse path', () => {
    // r = floor(0.05·2·2 / 4) = 0.
    const m = denseBlock(2, { units: 2, sparsity: 0.05, family: 'sparse-doped', name: 'sd' });
    expect(kernels(m)).toEqual([['doped-sparse', true, [2, 2]]]);
  });
});

describe('block forward equals a JS reference', () => {
  const read = (m: tfl.LayersModel, name: string) => {
    const l = layerOf(m, name);
    const bias = l.getWeights().find((w) => w.shape.length === 1);
    return { w: elementwiseProduct(l.kernelVariable().dataSync(), l.maskVariable().dataSync()), b: bias?.dataSync() };
  };

  it('linear SP (identity σ): Σ_j x·(W_j ⊙ M_j) + b_j', () => {
    const m = denseBlock(6, { units: 5, sparsity: 0.75, family: 'sparse-parallel', name: 'p', maskSeed: 1, biasInitializer: 'randomNormal' });
    const x = seededNormal([3, 6], 2);
    const expected = addArrays(
      ...[0, 1, 2, 3].map((j) => {
        const { w, b } = read(m, `p_sp${j}`);
        return denseReference(x.dataSync(), 3, w, 6, 5, b);
      }),
    );
    expect(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), expected)).toBeLessThan(1e-5);
  });

  it('linear SF (linear middle): (x·(U ⊙ M_U))·(V ⊙ M_V) + b', () => {
    const m = denseBlock(6, { units: 5, sparsity: 0.5, family: 'sparse-factorized', factorizedMiddle: 'linear', name: 'f', maskSeed: 1, biasInitializer: 'randomNormal' });
    const x = seededNormal([3, 6], 2);
    const u = read(m, 'f_u');
    const v = read(m, 'f_v');
    const d = layerOf(m, 'f_u').kernelVariable().shape[1]!;
    const expected = denseReference(denseReference(x.dataSync(), 3, u.w, 6, d), 3, v.w, d, 5, v.b);
    expect(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), expected)).toBeLessThan(1e-5);
  });

  it('linear SD: x·(S ⊙ M) + b + (x·U)·V', () => {
    const m = denseBlock(8, { units: 8, sparsity: 0.5, family: 'sparse-doped', name: 'd', maskSeed: 1 });
    const x = seededNormal([3, 8], 2);
    const s = read(m, 'd_sparse');
    const u = read(m, 'd_u');
    const v = read(m, 'd_v');
    const r = 2; // floor(0.5·64/16)
    const expected = addArrays(denseReference(x.dataSync(), 3, s.w, 8, 8, s.b), denseReference(denseReference(x.dataSync(), 3, u.w, 8, r), 3, v.w, r, 8));
    expect(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), expected)).toBeLessThan(1e-5);
  });

  const conv = (x: tf.Tensor, xs: [number, number, number, number], p: { w: Float64Array; b?: ArrayLike<number> | undefined }, k: [number, number, number, number], s: number, pad: 'same' | 'valid') =>
    conv2dReference(x instanceof tf.Tensor ? x.dataSync() : x, xs, p.w, k, [s, s], pad, [1, 1], p.b);

  it("conv SP with fresh BN (inference: y/√(1+ε)), 'bn' and 'bn-relu', stride 2", () => {
    const x = seededNormal([2, 7, 7, 3], 3);
    for (const norm of ['bn', 'bn-relu'] as const) {
      const m = convBlock([7, 7, 3], { filters: 4, kernelSize: 3, strides: 2, sparsity: 0.5, family: 'sparse-parallel', parallelSigma: norm, name: `p${norm.length}`, maskSeed: 4 });
      const scale = 1 / Math.sqrt(1 + 1e-5);
      const branches = [0, 1].map((j) => {
        const y = conv(x, [2, 7, 7, 3], read(m, `p${norm.length}_sp${j}`), [3, 3, 3, 4], 2, 'same').data.map((v) => v * scale);
        return norm === 'bn-relu' ? y.map((v) => Math.max(0, v)) : y;
      });
      expect(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), addArrays(...branches))).toBeLessThan(1e-5);
    }
  });

  it('conv SF (linear middle): V 1×1 on U k×k stride 2; conv SD: sparse + V(U(x))', () => {
    const x = seededNormal([1, 6, 6, 3], 5);
    const sf = convBlock([6, 6, 3], { filters: 4, kernelSize: 3, strides: 2, sparsity: 0.5, family: 'sparse-factorized', factorizedMiddle: 'linear', name: 'f', maskSeed: 6 });
    const d = 7; // ceil(27·4 / (0.5·31)) = ceil(6.97)
    const h = conv(x, [1, 6, 6, 3], read(sf, 'f_u'), [3, 3, 3, d], 2, 'same');
    const ySf = conv2dReference(h.data, h.shape, read(sf, 'f_v').w, [1, 1, d, 4], [1, 1], 'valid');
    expect(maxAbsDiff((sf.predict(x) as tf.Tensor).dataSync(), ySf.data)).toBeLessThan(1e-5);

    const sd = convBlock([6, 6, 3], { filters: 4, kernelSize: 3, strides: 2, padding: 'valid', sparsity: 0.75, family: 'sparse-doped', name: 'd', maskSeed: 6 });
    const r = 2; // floor(0.75·27·4 / 31) = floor(2.61)
    const sparse = conv(x, [1, 6, 6, 3], read(sd, 'd_sparse'), [3, 3, 3, 4], 2, 'valid');
    const low = conv(x, [1, 6, 6, 3], read(sd, 'd_u'), [3, 3, 3, r], 2, 'valid');
    const lowOut = conv2dReference(low.data, low.shape, read(sd, 'd_v').w, [1, 1, r, 4], [1, 1], 'valid');
    expect(maxAbsDiff((sd.predict(x) as tf.Tensor).dataSync(), addArrays(sparse.data, lowOut.data))).toBeLessThan(1e-5);
  });
});

/** Every family with its non-trivial options, for the round-trip and gradient tests. */
const LINEAR_CASES: Array<[string, Omit<SparseIftDenseOptions, 'name'>]> = [
  ['dense', { family: 'dense', units: 5, sparsity: 0 }],
  ['sparse-wide', { family: 'sparse-wide', units: 7, sparsity: 0.5 }],
  ['sparse-parallel σ=gelu', { family: 'sparse-parallel', units: 5, sparsity: 0.5, parallelSigma: 'gelu' }],
  ['sparse-parallel σ=layernorm', { family: 'sparse-parallel', units: 5, sparsity: 0.5, parallelSigma: 'layernorm' }],
  ['sparse-factorized (LayerNorm middle)', { family: 'sparse-factorized', units: 5, sparsity: 0.5 }],
  ['sparse-factorized uOnly, LN+ReLU', { family: 'sparse-factorized', units: 5, sparsity: 0.5, factorizedUOnly: true, factorizedMiddle: 'nonlinear_relu' }],
  ['sparse-doped', { family: 'sparse-doped', units: 5, sparsity: 0.5 }],
  ['sparse-doped maskLowRank', { family: 'sparse-doped', units: 5, sparsity: 0.5, dopedMaskLowRank: true }],
];
const CONV_CASES: Array<[string, Omit<SparseIftConv2DOptions, 'name'>]> = [
  ['dense', { family: 'dense', filters: 4, kernelSize: 3, sparsity: 0 }],
  ['sparse-wide', { family: 'sparse-wide', filters: 6, kernelSize: 3, strides: 2, sparsity: 0.5 }],
  ['sparse-parallel bn', { family: 'sparse-parallel', filters: 4, kernelSize: 3, sparsity: 0.5 }],
  ['sparse-parallel bn-relu stride 2', { family: 'sparse-parallel', filters: 4, kernelSize: 3, strides: 2, sparsity: 0.5, parallelSigma: 'bn-relu' }],
  ['sparse-factorized nonlinear_relu stride 2', { family: 'sparse-factorized', filters: 4, kernelSize: 3, strides: 2, sparsity: 0.5 }],
  ['sparse-factorized nonlinear_norelu', { family: 'sparse-factorized', filters: 4, kernelSize: 3, sparsity: 0.5, factorizedMiddle: 'nonlinear_norelu' }],
  ['sparse-doped valid', { family: 'sparse-doped', filters: 4, kernelSize: 3, padding: 'valid', sparsity: 0.5 }],
  ['sparse-doped maskLowRank, bias', { family: 'sparse-doped', filters: 4, kernelSize: 3, sparsity: 0.75, dopedMaskLowRank: true, useBias: true }],
];

describe('save → load round trip of every family', () => {
  it('covers every family in both lists', () => {
    for (const f of FAMILIES) {
      expect(LINEAR_CASES.some(([, o]) => o.family === f)).toBe(true);
      expect(CONV_CASES.some(([, o]) => o.family === f)).toBe(true);
    }
  });
  const roundTrip = async (model: tfl.LayersModel, x: tf.Tensor) => {
    // One training-mode pass moves the BN moving statistics away from their init.
    model.apply(x, { training: true });
    const loaded = await saveAndLoad(model);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    const a = collectMaskedParams(model);
    const b = collectMaskedParams(loaded);
    expect(b.map((p) => [p.name, p.layerName, p.role, p.sparsity])).toEqual(a.map((p) => [p.name, p.layerName, p.role, p.sparsity]));
    a.forEach((p, i) => expect(Array.from(b[i]!.mask.dataSync())).toEqual(Array.from(p.mask.dataSync())));
    expect(loaded.getWeights().map((w) => w.shape)).toEqual(model.getWeights().map((w) => w.shape));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
  };
  for (const [title, options] of LINEAR_CASES) {
    it(`linear ${title}`, async () => {
      const din = options.family === 'sparse-wide' ? 7 : 6;
      await roundTrip(denseBlock(din, { ...options, name: 'blk', maskSeed: 3 }), seededNormal([4, din], 8));
    });
  }
  for (const [title, options] of CONV_CASES) {
    it(`conv ${title}`, async () => {
      const cin = options.family === 'sparse-wide' ? 5 : 3;
      await roundTrip(convBlock([5, 5, cin], { ...options, name: 'blk', maskSeed: 3 }), seededNormal([2, 5, 5, cin], 8));
    });
  }
});

describe('finite-difference gradient checks (w.r.t. input and every kernel)', () => {
  // float32 central differences with h = 1e-3 on a loss L = Σ out ⊙ R with few (≤ 36) terms of
  // size ~1: rounding gives |ΔL| ≈ 1e-7·Σ|terms| ≈ 1e-6, i.e. ≈ 5e-4 in the quotient; the O(h²)
  // truncation term is < 1e-5 for these smooth parts. Tolerance: 3e-3 + 2e-2·|g|. (ReLU kinks:
  // a coordinate whose perturbation crosses a kink would fail; the seeds are fixed and none does.)
  const H = 1e-3;
  const close = (fd: number, an: number) => Math.abs(fd - an) <= 3e-3 + 2e-2 * Math.abs(an);

  const check = (model: tfl.LayersModel, xShape: number[]) => {
    const x = tf.variable(seededNormal(xShape, 13), true, undefined);
    const outShape = (model.predict(x) as tf.Tensor).shape;
    const R = seededNormal(outShape, 14);
    const loss = () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, R)) as tf.Scalar;
    const kernelLayers = model.layers.filter((l) => l.getClassName() === 'Conv2D' || l.getClassName() === 'Dense' || l instanceof MaskedKernelLayer);
    const kernels = kernelLayers.map((l) => (l instanceof MaskedKernelLayer ? l.kernelVariable() : (l.trainableWeights[0]!.read() as tf.Variable)));
    const { grads } = tf.variableGrads(loss, [x, ...kernels]);
    let checked = 0;
    let maskedZeros = 0;
    for (const v of [x, ...kernels]) {
      const g = grads[v.name]!.dataSync();
      const layer = kernelLayers[kernels.indexOf(v)];
      const mask = layer instanceof MaskedKernelLayer ? layer.maskVariable().dataSync() : undefined;
      const maskedIdx: number[] = [];
      if (mask) mask.forEach((m, i) => m === 0 && maskedIdx.push(i));
      for (const i of maskedIdx) expect(Math.abs(g[i]!)).toBe(0);
      maskedZeros += maskedIdx.length;
      const idx = sampleIndices(g.length, 6, maskedIdx.slice(0, 2));
      const fd = finiteDifferences(loss, v, idx, H);
      idx.forEach((i, j) => {
        if (!close(fd[j]!, g[i]!)) throw new Error(`${v.name}[${i}]: finite difference ${fd[j]} vs gradient ${g[i]}`);
        checked++;
      });
    }
    return { checked, maskedZeros };
  };

  for (const [title, options] of LINEAR_CASES) {
    it(`linear ${title}`, () => {
      const din = options.family === 'sparse-wide' ? 7 : 6;
      const m = denseBlock(din, { ...options, name: 'g', maskSeed: 21, biasInitializer: 'randomNormal' });
      const { checked, maskedZeros } = check(m, [2, din]);
      expect(checked).toBeGreaterThan(6);
      if (options.family !== 'dense') expect(maskedZeros).toBeGreaterThan(0);
    });
  }
  for (const [title, options] of CONV_CASES) {
    it(`conv ${title}`, () => {
      const cin = options.family === 'sparse-wide' ? 5 : 3;
      const m = convBlock([4, 4, cin], { ...options, name: 'g', maskSeed: 22 });
      const { checked, maskedZeros } = check(m, [1, 4, 4, cin]);
      expect(checked).toBeGreaterThan(6);
      if (options.family !== 'dense') expect(maskedZeros).toBeGreaterThan(0);
    });
  }
});

describe('training a block', () => {
  it('optimizer.computeGradients over model.trainableWeights excludes masks and zeroes masked grads', () => {
    const m = convBlock([4, 4, 3], { family: 'sparse-doped', filters: 4, kernelSize: 3, sparsity: 0.5, name: 't', maskSeed: 1, dopedMaskLowRank: true });
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(vars.map((v) => v.name).filter((n) => n.includes('mask'))).toEqual([]);
    const x = seededNormal([2, 4, 4, 3], 2);
    const opt = tf.train.sgd(0.1);
    const { grads } = opt.computeGradients(() => tf.mean(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    for (const p of collectMaskedParams(m)) {
      const g = grads[p.weight.name]!.dataSync();
      const mask = p.mask.dataSync();
      for (let i = 0; i < g.length; i++) if (mask[i] === 0) expect(Math.abs(g[i]!)).toBe(0);
    }
    expect(collectMaskedParams(m)).toHaveLength(3);
  });

  it('MaskedDense / MaskedConv2D are the classes the blocks use', () => {
    const m = denseBlock(4, { family: 'sparse-parallel', units: 3, sparsity: 0.5, name: 'c' });
    expect(m.getLayer('c_sp0')).toBeInstanceOf(MaskedDense);
    const c = convBlock([4, 4, 2], { family: 'sparse-factorized', filters: 3, kernelSize: 3, sparsity: 0.5, name: 'c' });
    expect(c.getLayer('c_u')).toBeInstanceOf(MaskedConv2D);
  });
});
