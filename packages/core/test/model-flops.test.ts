import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops, type FlopOp } from '../src/flops.js';
import { MaskedConv2D } from '../src/layers/masked-conv2d.js';
import { sparseIftConv2D } from '../src/layers/blocks.js';
import { countedLayerName, modelFlopOps, modelParamCount, planFromOps, planModel, type PlanOp } from '../src/model-flops.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 8×8×3 → conv3×3(4, no bias) → BN → ReLU → maxpool 2 → GAP → Dense(10). */
function tinyModel(countRelu: boolean): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'stem' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: countRelu ? countedLayerName('relu') : 'relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, name: 'fc' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

// Hand counts (the rules of docs/flops.md#official-counter):
//   conv: 108 weights × 64 positions = 6912 mults, 107 × 64 = 6848 adds          → 13,760
//   BN C=4, S=64, N=256: adds 2·4·63 + 2·256 = 1016, mults 768, other 4           →  1,788
//   ReLU module: 256 logical (functional: 0)
//   maxpool 2×2 → 4×4×4 = 64 outputs × 3 comparisons                               →    192
//   GAP (functional, not counted)                                                  →      0
//   fc 4→10 + bias: 40 mults + 30 adds + 10 bias adds                              →     80
const HAND_TOTAL = 13_760 + 1_788 + 192 + 80;

describe('modelFlopOps walker', () => {
  it('counts a small conv net exactly as the official counter would (functional ReLU)', () => {
    const model = tinyModel(false);
    expect(countFlops(modelFlopOps(model), 'official').dense).toBe(HAND_TOTAL);
    // paper view: MACs of weighted ops only
    expect(countFlops(modelFlopOps(model), 'paper').dense).toBe(6912 + 40);
    model.dispose();
  });

  it('counts a ReLU named as a module (nn.ReLU)', () => {
    const model = tinyModel(true);
    expect(countFlops(modelFlopOps(model), 'official').dense).toBe(HAND_TOTAL + 256);
    model.dispose();
  });

  it('dense rows: linear rows = product of the non-batch leading dims', () => {
    const input = tfl.input({ shape: [5, 6] });
    const out = tfl.layers.dense({ units: 7, useBias: false, name: 'proj' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const ops = modelFlopOps(model);
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ kind: 'linear', inFeatures: 6, outFeatures: 7, rows: 5 });
    // 5 rows × (6·7 mults + 5·7 adds)
    expect(countFlops(ops, 'official').dense).toBe(5 * (42 + 35));
    model.dispose();
  });

  it('params count every weight but not BN running statistics (sum(p.numel()))', () => {
    const model = tinyModel(false);
    // conv 108 + BN γ,β 8 + fc 40 + 10 = 166 (tf.js also holds 8 moving stats, not params)
    expect(modelParamCount(model)).toBe(166);
    expect(model.countParams()).toBe(174);
    expect(planModel(model).totals.params).toBe(166);
    model.dispose();
  });

  it('masked layers: realised density from the mask, target density from the sparsity; SF middle ReLU counted', () => {
    const input = tfl.input({ shape: [6, 6, 2] });
    const conv = new MaskedConv2D({ name: 'mc', filters: 3, kernelSize: 3, useBias: false, role: 'wide-weight', sparsity: 0.5, maskSeed: 5 });
    let x = conv.apply(input) as tfl.SymbolicTensor;
    x = sparseIftConv2D(x, { name: 'sf', family: 'sparse-factorized', sparsity: 0.5, filters: 3, kernelSize: 3 });
    const model = tfl.model({ inputs: input, outputs: x });
    const mask = conv.maskVariable().dataSync();
    const ones = mask.reduce((a, b) => a + b, 0);
    const realised = modelFlopOps(model).find((o) => o.name === 'mc');
    expect(realised).toMatchObject({ kind: 'conv2d', masked: true, density: ones / 54, maskable: true, role: 'wide-weight' });
    expect(modelFlopOps(model, { density: 'target' }).find((o) => o.name === 'mc')).toMatchObject({ density: 0.5 });
    // SF: Din = 9·3 = 27, Dout = 3: d = ceil(27·3 / (0.5·(27 + 3))) = ceil(5.4) = 6 → U 3×3×3×6, BN(6), nn.ReLU (counted), V 1×1×6×3
    const ops = modelFlopOps(model, { density: 'target' });
    expect(ops.find((o) => o.name === 'sf_u')).toMatchObject({ kernelSize: [3, 3], inChannels: 3, outChannels: 6, masked: true });
    expect(ops.find((o) => o.name === 'sf_mid_relu')).toMatchObject({ kind: 'relu', numel: 6 * 6 * 6, counted: true });
    expect(ops.find((o) => o.name === 'sf_v')).toMatchObject({ kernelSize: [1, 1], inChannels: 6, outChannels: 3 });
    model.dispose();
  });

  it('a weightless layer with no rule is an error naming the layer', () => {
    const input = tfl.input({ shape: [4] });
    const out = tfl.layers.leakyReLU({ name: 'odd' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    expect(() => modelFlopOps(model)).toThrow(/'odd'.*HasFlopOps/);
    model.dispose();
  });
});

describe('planFromOps', () => {
  const conv = (name: string, masked: boolean, density: number, cin = 2, cout = 4): PlanOp => ({
    kind: 'conv2d', name, kernelSize: [3, 3], inChannels: cin, outChannels: cout, outHeight: 5, outWidth: 5, bias: false, masked, density,
  });
  const baseline: PlanOp[] = [
    { ...conv('stem', false, 1, 3, 2), role: 'stem' },
    { ...conv('body', false, 1), maskable: true },
    { kind: 'batchnorm', name: 'bn', channels: 4, spatial: 25, affine: true },
  ];
  // Sparse Parallel-like: two branches at density 0.5 replace `body`
  const sparse: PlanOp[] = [
    { ...conv('stem', false, 1, 3, 2), role: 'stem' },
    conv('body_b0', true, 0.5),
    conv('body_b1', true, 0.5),
    { kind: 'batchnorm', name: 'bn', channels: 4, spatial: 25, affine: true },
  ];

  it('params, masked params and both views by hand', () => {
    const plan = planFromOps(sparse, baseline, { convention: 'paper' });
    // stem 3·3·3·2 = 54, two branches 72 each, BN 8
    expect(plan.totals.params).toBe(54 + 144 + 8);
    expect(plan.totals.maskedParams).toBe(144);
    expect(plan.totals.nonZeroParams).toBe(54 + 72 + 8);
    // paper MACs: stem 54·25 = 1350; body dense 72·25 = 1800; branches 2 × 0.5 × 1800
    expect(plan.totals.denseFlops).toBe(1350 + 1800);
    expect(plan.totals.sparseFlops).toBe(1350 + 1800);
    expect(plan.byConvention.paper.maskedLayers).toEqual({ denseFlops: 1800, sparseFlops: 1800, flopRatio: 1 });
    expect(plan.byConvention.paper.wholeNetwork.instantiatedDenseFlops).toBe(1350 + 3600);
    expect(plan.rows.map((r) => r.masked)).toEqual([false, true, true, false]);
    expect(plan.rows[1]).toMatchObject({ shape: [3, 3, 2, 4], params: 72, density: 0.5, denseFlops: 1800, sparseFlops: 900 });
  });

  it('official view truncates masked adds/mults separately', () => {
    const plan = planFromOps(sparse, baseline);
    // body dense: 1800 mults + 1775 adds; each branch at 0.5: 900 + 887
    expect(plan.byConvention.official.maskedLayers.denseFlops).toBe(3575);
    expect(plan.byConvention.official.maskedLayers.sparseFlops).toBe(2 * (900 + 887));
  });

  it('tied weights and extra params', () => {
    const head: FlopOp = { kind: 'linear', name: 'lm_head', inFeatures: 4, outFeatures: 10, rows: 3, bias: false, masked: false, density: 1 };
    const plan = planFromOps({ ops: [head], extraParams: [{ name: 'wte', shape: [10, 4] }], tiedWeightOps: ['lm_head'] });
    expect(plan.totals.params).toBe(40);
    expect(plan.reference).toBe('instantiated');
  });
});
