import { describe, expect, it } from 'vitest';
import {
  denseMacs,
  isoFlopRoundingBound,
  planLayer,
  planMacs,
  pythonRound,
  solveSparseWideSparsity,
  sparseDopedRank,
  sparseFactorizedWidth,
  sparseParallelBranches,
  sparseWideTransformerWidth,
  sparseWideWidth,
  type DenseLayerSpec,
  type Family,
} from '../src/isoflop.js';

// The (Cin, Cout) pairs of the CIFAR ResNet-18 blocks, and the per-pair SF widths / SD ranks of docs/reference-values.md#cifar-100-resnet-18
// (computed there from the official formulas; independent of this code).
const PAIRS: Array<[number, number]> = [[64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 512], [512, 512]];
const SPEC_SF: Record<number, number[]> = {
  0.5: [116, 210, 231, 419, 461, 838, 922],
  0.75: [231, 419, 461, 838, 922, 1676, 1844],
  0.9: [577, 1048, 1153, 2095, 2305, 4190, 4609],
};
const SPEC_SF_U_ONLY: Record<number, number[]> = {
  0.5: [105, 178, 210, 355, 419, 709, 838],
  0.75: [178, 272, 355, 543, 709, 1085, 1418],
  0.9: [304, 398, 607, 795, 1213, 1589, 2426],
};
const SPEC_SD: Record<number, number[]> = {
  0.5: [28, 52, 57, 104, 115, 209, 230],
  0.75: [43, 78, 86, 157, 172, 314, 345],
  0.9: [51, 94, 103, 188, 207, 377, 414],
};
const SPARSITIES = [0.5, 0.75, 0.9] as const;

describe('rounding helpers', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, -1.5, 2.4999, 2.5001].map(pythonRound)).toEqual([0, 2, 2, 4, -2, 2, 3]);
  });
});

describe('per-family shapes match the official code (docs/sparse-ift.md#the-four-families, docs/reference-values.md#cifar-100-resnet-18)', () => {
  it('Sparse Wide ResNet widths are 90, 128, 202', () => {
    expect(SPARSITIES.map((s) => sparseWideWidth(64, s))).toEqual([90, 128, 202]);
    expect(sparseWideWidth(64, 0)).toBe(64);
  });
  it('Sparse Wide GPT widths are 1092 and 1536 (multiple of 12 heads)', () => {
    expect(sparseWideTransformerWidth(768, 12, 0.5)).toBe(1092);
    expect(sparseWideTransformerWidth(768, 12, 0.75)).toBe(1536);
  });
  it('Sparse Parallel branches are 2, 4, 10', () => {
    expect(SPARSITIES.map(sparseParallelBranches)).toEqual([2, 4, 10]);
  });
  it.each(SPARSITIES)('Sparse Factorized inner widths at s=%s', (s) => {
    expect(PAIRS.map(([cin, cout]) => sparseFactorizedWidth(9 * cin, cout, s))).toEqual(SPEC_SF[s]);
    expect(PAIRS.map(([cin, cout]) => sparseFactorizedWidth(9 * cin, cout, s, { uOnly: true }))).toEqual(SPEC_SF_U_ONLY[s]);
  });
  it.each(SPARSITIES)('Sparse Doped ranks at s=%s', (s) => {
    expect(PAIRS.map(([cin, cout]) => sparseDopedRank(9 * cin, cout, s))).toEqual(SPEC_SD[s]);
  });
  it('rejects a sparsity outside [0, 1)', () => {
    expect(() => sparseParallelBranches(1)).toThrow(/sparsity/);
    expect(() => sparseFactorizedWidth(10, 10, Number.NaN)).toThrow(/sparsity/);
  });
});

describe('iso-FLOP: every family × s × shape costs the dense FLOPs within the rounding bound', () => {
  const shapes: DenseLayerSpec[] = [
    { kind: 'linear', inFeatures: 784, outFeatures: 300 },
    { kind: 'linear', inFeatures: 37, outFeatures: 1000 },
    { kind: 'linear', inFeatures: 768, outFeatures: 3072 },
    { kind: 'conv', kernelSize: [1, 1], inChannels: 64, outChannels: 128, stride: 2 },
    { kind: 'conv', kernelSize: [3, 3], inChannels: 64, outChannels: 64 },
    { kind: 'conv', kernelSize: [3, 3], inChannels: 128, outChannels: 256, stride: 2 },
    { kind: 'conv', kernelSize: [7, 7], inChannels: 3, outChannels: 64, stride: 2 },
  ];
  const families: Family[] = ['sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'];
  for (const layer of shapes) {
    for (const family of families) {
      for (const s of SPARSITIES) {
        it(`${family} s=${s} ${JSON.stringify(layer)}`, () => {
          const dense = denseMacs(layer);
          const sparse = planMacs(planLayer(layer, family, s));
          // Bound (per output position): SP |round(k)(1−s) − 1|·Din·Dout (0 at these s up to float error);
          // SF (1−s)(Din+Dout) (ceil adds < 1 to d); SD Din+Dout (floor removes < 1 from r, whose cost
          // is Din+Dout); SW (1−s)·kk·(0.5·k·Cout + 0.5·k·Cin + 0.25) (each side rounded by ≤ 0.5).
          const bound = isoFlopRoundingBound(layer, family, s);
          expect(Math.abs(sparse - dense)).toBeLessThanOrEqual(bound + 1e-6 * dense);
          // and the bound itself is small: within 3% of the layer's dense cost, except Sparse Wide on a
          // 3-channel input, where rounding 3·k_sw channels moves the cost by up to 17% (a network's input
          // is never widened, so whole networks do not hit this).
          const inChannels = layer.kind === 'conv' ? layer.inChannels : layer.inFeatures;
          if (!(family === 'sparse-wide' && inChannels < 16)) expect(bound).toBeLessThan(0.03 * dense + 1);
        });
      }
    }
  }
  it('Sparse Doped with U and V masked (released code) falls well below iso-FLOP', () => {
    const layer: DenseLayerSpec = { kind: 'conv', kernelSize: [3, 3], inChannels: 64, outChannels: 64 };
    const released = planMacs(planLayer(layer, 'sparse-doped', 0.9, { dopedMaskLowRank: true }));
    expect(released / denseMacs(layer)).toBeLessThan(0.25);
  });
});

describe('Sparse Wide FLOP-budget solve (docs/flops.md#sparse-wide-budget)', () => {
  it('solves dense + (1−s)·maskable = budget', () => {
    // budget 1000, dense part 100, maskable 3600 → density 0.25 → s 0.75
    expect(solveSparseWideSparsity({ denseFlops: 100, maskableFlops: 3600, budget: 1000 })).toBeCloseTo(0.75, 12);
  });
  it('refuses a budget the dense part already exceeds', () => {
    expect(() => solveSparseWideSparsity({ denseFlops: 2000, maskableFlops: 10, budget: 1000 })).toThrow(/exceeds the budget/);
  });
});
