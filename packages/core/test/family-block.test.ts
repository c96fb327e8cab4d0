/**
 * The one description of each family (familyBlock) against hand-computed shapes and op lists, and
 * the two things made from it against each other: the tf.js block read by the FLOP walker equals
 * the op list, op by op, for every family on a linear and on a conv layer.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { familyBlock, familyBlockOps, type FamilyOptions } from '../src/family-block.js';
import { countFlops } from '../src/flops.js';
import type { Family } from '../src/isoflop.js';
import { sparseIftConv2D, sparseIftDense } from '../src/layers/blocks.js';
import { modelFlopOps, planFromOps, type PlanOp } from '../src/model-flops.js';
import { useCpu } from './helpers/tf-helpers.js';

beforeAll(useCpu);

const LINEAR = { kind: 'linear', inFeatures: 12, outFeatures: 20 } as const;
const CONV = { kind: 'conv', kernelSize: [3, 3], inChannels: 8, outChannels: 16 } as const;

/** [name, kind, weight shape or width, masked] of each op: the block's structure at a glance. */
const outline = (ops: PlanOp[]) =>
  ops.map((op) => {
    if (op.kind === 'linear') return [op.name, op.kind, [op.inFeatures, op.outFeatures], op.masked, op.bias];
    if (op.kind === 'conv2d') return [op.name, op.kind, [...op.kernelSize, op.inChannels, op.outChannels], op.masked, op.bias];
    return [op.name, op.kind];
  });

describe('familyBlock: what each family makes of a linear 12 → 20 at s = 0.75', () => {
  // SP: round(1/0.25) = 4 branches. SF: d = ceil(240 / (0.25·32)) = 30. SD: r = floor(0.75·240/32) = 5.
  const ops = (family: Family, extra: Partial<FamilyOptions> = {}) =>
    outline(familyBlockOps(familyBlock(LINEAR, { family, sparsity: family === 'dense' ? 0 : 0.75, bias: true, ...extra }), 'fc', { rows: 1 }));
  it('dense and Sparse Wide: one weight under the block name', () => {
    expect(ops('dense')).toEqual([['fc', 'linear', [12, 20], false, true]]);
    expect(ops('sparse-wide')).toEqual([['fc', 'linear', [12, 20], true, true]]);
  });
  it('Sparse Parallel: 4 masked branches with their own bias, σ per branch, one sum', () => {
    expect(ops('sparse-parallel')).toEqual([
      ...[0, 1, 2, 3].map((j) => [`fc_sp${j}`, 'linear', [12, 20], true, true]),
      ['fc_sum', 'add'],
    ]);
    expect(ops('sparse-parallel', { parallelSigma: 'layernorm' }).filter(([, kind]) => kind === 'layernorm')).toHaveLength(4);
  });
  it('Sparse Factorized: U (no bias), LayerNorm middle, V with the bias; u-only leaves V dense', () => {
    expect(ops('sparse-factorized')).toEqual([
      ['fc_u', 'linear', [12, 30], true, false],
      ['fc_mid_ln', 'layernorm'],
      ['fc_v', 'linear', [30, 20], true, true],
    ]);
    // 'relu': a ReLU alone between U and V, counted like the official nn.ReLU.
    expect(ops('sparse-factorized', { factorizedMiddle: 'relu' }).map((o) => o[0])).toEqual(['fc_u', 'fc_mid_relu', 'fc_v']);
    // u-only: d = ceil(240 / (0.25·12 + 20)) = 11
    expect(ops('sparse-factorized', { factorizedUOnly: true, factorizedMiddle: 'linear' })).toEqual([
      ['fc_u', 'linear', [12, 11], true, false],
      ['fc_v', 'linear', [11, 20], false, true],
    ]);
  });
  it('Sparse Doped: the sparse path carries the bias; dense U, V (masked only on request); a sum', () => {
    expect(ops('sparse-doped')).toEqual([
      ['fc_sparse', 'linear', [12, 20], true, true],
      ['fc_u', 'linear', [12, 5], false, false],
      ['fc_v', 'linear', [5, 20], false, false],
      ['fc_sum', 'add'],
    ]);
    expect(ops('sparse-doped', { dopedMaskLowRank: true }).map((o) => o[3])).toEqual([true, true, true, undefined]);
  });
  it('iso-FLOP in the paper convention: every family within a few MACs of 240', () => {
    // dense 240; SP 4·0.25·240 = 240; SF 0.25·30·32 = 240; SD 240·0.25 + 5·32 = 220.
    const macs = (family: Family) =>
      countFlops(familyBlockOps(familyBlock(LINEAR, { family, sparsity: family === 'dense' ? 0 : 0.75, bias: false }), 'fc', { rows: 1 }), 'paper').sparse;
    expect(['dense', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'].map((f) => macs(f as Family))).toEqual([240, 240, 240, 220]);
  });
  it('rejects a σ of the other layer kind, naming both', () => {
    expect(() => familyBlock(LINEAR, { family: 'sparse-parallel', sparsity: 0.5, bias: true, parallelSigma: 'bn' })).toThrow(/'bn' does not apply to a linear; use identity, relu, gelu, layernorm/);
    expect(() => familyBlock(CONV, { family: 'sparse-parallel', sparsity: 0.5, bias: true, parallelSigma: 'gelu' })).toThrow(/does not apply to a conv/);
  });
});

describe('familyBlock on a 3×3 conv 8 → 16 at s = 0.5 (output 4×4)', () => {
  // SF: d = ceil(72·16 / (0.5·88)) = ceil(26.18) = 27. SD: r = floor(0.5·1152/88) = 6.
  const ops = (family: Family, extra: Partial<FamilyOptions> = {}) =>
    familyBlockOps(familyBlock(CONV, { family, sparsity: family === 'dense' ? 0 : 0.5, bias: false, ...extra }), 'c', { outHeight: 4, outWidth: 4 });
  it('Sparse Factorized (official config): U 3×3, BN + counted ReLU module, V 1×1', () => {
    const list = ops('sparse-factorized');
    expect(outline(list)).toEqual([
      ['c_u', 'conv2d', [3, 3, 8, 27], true, false],
      ['c_mid_bn', 'batchnorm'],
      ['c_mid_relu', 'relu'],
      ['c_v', 'conv2d', [1, 1, 27, 16], true, false],
    ]);
    expect(list[2]).toMatchObject({ counted: true, numel: 27 * 16 });
  });
  it('Sparse Parallel: BN per branch (CIFAR), BN + ReLU per branch (ImageNet)', () => {
    expect(outline(ops('sparse-parallel')).map((o) => o[0])).toEqual(['c_sp0', 'c_sp0_bn', 'c_sp1', 'c_sp1_bn', 'c_sum']);
    expect(outline(ops('sparse-parallel', { parallelSigma: 'bn-relu' })).map((o) => o[0])).toEqual(['c_sp0', 'c_sp0_bn', 'c_sp0_relu', 'c_sp1', 'c_sp1_bn', 'c_sp1_relu', 'c_sum']);
  });
  it('Sparse Wide masks at the solved mask sparsity, not s', () => {
    expect(ops('sparse-wide', { maskSparsity: 0.6 })[0]).toMatchObject({ masked: true, density: 0.4, role: 'wide-weight' });
  });
  it('parameters by hand: SD = 3·3·8·16 + 3·3·8·6 + 6·16 = 1680', () => {
    expect(planFromOps(ops('sparse-doped')).totals.params).toBe(1152 + 432 + 96);
  });
});

describe('the tf.js block and the op list come from the same description', () => {
  // A plain tf.js Dense/Conv2D carries no role for the walker to read; the op list calls it 'dense-weight'.
  const byName = (ops: PlanOp[]) => Object.fromEntries(ops.map(({ role, ...op }) => [op.name, role === 'dense-weight' ? op : { ...op, role }]));
  const families: Array<[Family, Partial<FamilyOptions>, Partial<FamilyOptions>]> = [
    ['dense', {}, {}],
    ['sparse-wide', {}, {}],
    ['sparse-parallel', { parallelSigma: 'relu' }, { parallelSigma: 'bn-relu' }],
    ['sparse-factorized', { factorizedMiddle: 'nonlinear_relu' }, {}],
    ['sparse-doped', { dopedMaskLowRank: true }, {}],
  ];
  for (const [family, extra, convExtra] of families) {
    const sparsity = family === 'dense' ? 0 : 0.5;
    it(`linear ${family}`, () => {
      const input = tfl.input({ shape: [3, 12] }); // 3 rows (tokens) per sample
      const model = tfl.model({ inputs: input, outputs: sparseIftDense(input, { name: 'fc', units: 20, family, sparsity, ...extra }) });
      const expected = familyBlockOps(familyBlock(LINEAR, { family, sparsity, bias: true, ...extra }), 'fc', { rows: 3 });
      const walked = modelFlopOps(model, { density: 'target', maskable: () => true });
      expect(byName(walked)).toEqual(byName(expected));
      model.dispose();
    });
    it(`conv ${family}`, () => {
      const input = tfl.input({ shape: [8, 8, 8] });
      const model = tfl.model({ inputs: input, outputs: sparseIftConv2D(input, { name: 'c', filters: 16, kernelSize: 3, strides: 2, family, sparsity, ...convExtra }) });
      const expected = familyBlockOps(familyBlock(CONV, { family, sparsity, bias: false, ...convExtra }), 'c', { outHeight: 4, outWidth: 4 });
      const walked = modelFlopOps(model, { density: 'target', maskable: () => true });
      expect(byName(walked)).toEqual(byName(expected));
      model.dispose();
    });
  }
});
