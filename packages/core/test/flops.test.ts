import { describe, expect, it } from 'vitest';
import { countFlops, trainingFlops, trainingFlopsPerSample, withDensity, type FlopOp } from '../src/flops.js';
import { solveSparseWideSparsity, sparseWideWidth } from '../src/isoflop.js';

/**
 * The CIFAR ResNet-18 forward pass written out by hand from the official model file (docs/recipes.md#cifar-100-resnet-18):
 * stem 3×3 conv + BN (functional ReLU), four stages of two BasicBlocks, 1×1 shortcut conv + BN where
 * the shape changes, functional avg-pool, Linear(8W → 100). Masked: block convs and shortcuts.
 */
function cifarResNet18Ops(width: number, density: number): FlopOp[] {
  const ops: FlopOp[] = [];
  const conv = (name: string, k: number, cin: number, cout: number, hw: number, masked: boolean): void => {
    ops.push({ kind: 'conv2d', name, kernelSize: [k, k], inChannels: cin, outChannels: cout, outHeight: hw, outWidth: hw, bias: false, masked, density: masked ? density : 1 });
    ops.push({ kind: 'batchnorm', name: `${name}/bn`, channels: cout, spatial: hw * hw, affine: true });
  };
  conv('stem', 3, 3, width, 32, false);
  let cin = width;
  let hw = 32;
  [1, 2, 4, 8].forEach((mult, stage) => {
    const cout = width * mult;
    for (let b = 0; b < 2; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const out = hw / stride;
      conv(`s${stage}b${b}/conv1`, 3, cin, cout, out, true);
      conv(`s${stage}b${b}/conv2`, 3, cout, cout, out, true);
      if (stride !== 1 || cin !== cout) conv(`s${stage}b${b}/shortcut`, 1, cin, cout, out, true);
      cin = cout;
      hw = out;
    }
  });
  ops.push({ kind: 'avgpool2d', name: 'avgpool', kernel: 4, outNumel: cin, counted: false });
  ops.push({ kind: 'linear', name: 'fc', inFeatures: cin, outFeatures: 100, rows: 1, bias: true, masked: false, density: 1 });
  return ops;
}

describe('official FLOP counter rules (docs/flops.md#official-counter)', () => {
  it('reproduces the official CIFAR ResNet-18 budget 1,115,226,800 exactly', () => {
    expect(countFlops(cifarResNet18Ops(64, 1), 'official').dense).toBe(1_115_226_800);
  });

  it('Sparse Wide at nominal s gives the reference ratios before the budget search (docs/reference-values.md#cifar-100-resnet-18)', () => {
    const budget = 1_115_226_800;
    const ratios = [0.5, 0.75, 0.9].map((s) => countFlops(cifarResNet18Ops(sparseWideWidth(64, s), 1 - s), 'official').sparse / budget);
    expect(ratios.map((r) => Number(r.toFixed(4)))).toEqual([0.9917, 1.0071, 1.0116]);
  });

  it('the budget solve lands on the reference searched sparsities 0.4958, 0.7518, 0.9012 (docs/reference-values.md#cifar-100-resnet-18)', () => {
    const found = [0.5, 0.75, 0.9].map((s) => {
      const t = countFlops(cifarResNet18Ops(sparseWideWidth(64, s), 1), 'official');
      return solveSparseWideSparsity({ denseFlops: t.dense - t.maskableDense, maskableFlops: t.maskableDense, budget: 1_115_226_800 });
    });
    expect(found.map((x) => Number(x.toFixed(4)))).toEqual([0.4958, 0.7518, 0.9012]);
  });

  it('a masked conv scales adds and multiplies by density, truncated, but not its bias adds', () => {
    // 3×3, 2→4 channels, 5×5 output, bias: mults 72·25 = 1800, adds 71·25 = 1775, bias adds 4·25 = 100
    const op: FlopOp = { kind: 'conv2d', name: 'c', kernelSize: [3, 3], inChannels: 2, outChannels: 4, outHeight: 5, outWidth: 5, bias: true, masked: true, density: 0.3 };
    const t = countFlops([op], 'official');
    expect(t.dense).toBe(1800 + 1775 + 100);
    expect(t.sparse).toBe(Math.trunc(1800 * 0.3) + Math.trunc(1775 * 0.3) + 100); // 540 + 532 + 100
    expect(countFlops([op], 'paper')).toMatchObject({ dense: 1800, sparse: 540 });
  });

  it('BatchNorm: adds 2C(S−1) + 2N, multiplies 3N, other C', () => {
    // C = 2, S = 3, N = 6: adds 2·2·2 + 12 = 20, mults 18, other 2
    expect(countFlops([{ kind: 'batchnorm', name: 'bn', channels: 2, spatial: 3, affine: true }], 'official').dense).toBe(40);
  });

  it('functional ops are not counted, module ReLUs are', () => {
    const ops: FlopOp[] = [
      { kind: 'relu', name: 'f', numel: 10, counted: false },
      { kind: 'relu', name: 'm', numel: 10, counted: true },
      { kind: 'add', name: 'res', numel: 10, counted: false },
    ];
    expect(countFlops(ops, 'official').dense).toBe(10);
  });

  it('withDensity sets only masked weights', () => {
    const ops = withDensity(cifarResNet18Ops(64, 1), () => 0.5);
    const stem = ops.find((o) => o.name === 'stem');
    const conv = ops.find((o) => o.name === 's0b0/conv1');
    expect(stem && 'density' in stem ? stem.density : -1).toBe(1);
    expect(conv && 'density' in conv ? conv.density : -1).toBe(0.5);
  });
});

describe('training FLOPs (docs/flops.md#training-flops)', () => {
  it('RigL per-step cost while updating is ((3ΔT+2)f_S + f_D)/(ΔT+1)', () => {
    // f_S = 1, f_D = 10, ΔT = 100 → (302 + 10)/101
    expect(trainingFlopsPerSample({ method: 'rigl', sparseForward: 1, denseForward: 10, updateFrequency: 100 })).toBeCloseTo(312 / 101, 12);
    expect(trainingFlopsPerSample({ method: 'static', sparseForward: 1, denseForward: 10 })).toBe(3);
    expect(trainingFlopsPerSample({ method: 'dense', sparseForward: 1, denseForward: 10 })).toBe(30);
  });
  it('totals multiply by batch and steps, with updates over the first 75%', () => {
    // 3 per step without updates, 312/101 with; batch 2, 100 steps, end 0.75
    const expected = 2 * ((312 / 101) * 75 + 3 * 25);
    expect(trainingFlops({ method: 'rigl', sparseForward: 1, denseForward: 10, batchSize: 2, steps: 100 })).toBeCloseTo(expected, 9);
  });
});
