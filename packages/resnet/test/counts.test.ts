/**
 * Parameter and FLOP counts of the op lists (no weights allocated) against the published figures and
 * the tables of docs/reference-values.md (#cifar-100-resnet-18, #imagenet), computed at expected density 1 − s as they are.
 */
import { countFlops, isoFlopRoundingBound, planFromOps, sparseFactorizedWidth, sparseDopedRank, type Family, type FlopOp } from '@sparse-ift/core';
import { describe, expect, it } from 'vitest';
import {
  RESNET18_CIFAR,
  RESNET18_IMAGENET,
  RESNET34_IMAGENET,
  RESNET34_CIFAR,
  resnetFlopBudget,
  resnetOps,
  resolveResNet,
  type ResNetArch,
  type ResNetOptions,
} from '@sparse-ift/resnet';

const ops = (arch: ResNetArch, opts: ResNetOptions): FlopOp[] => resnetOps(resolveResNet(arch, opts));
const dense = (arch: ResNetArch): FlopOp[] => ops(arch, { family: 'dense', sparsity: 0 });
const params = (arch: ResNetArch, opts: ResNetOptions): number => planFromOps(ops(arch, opts)).totals.params;
const ratio = (arch: ResNetArch, opts: ResNetOptions): number =>
  countFlops(ops(arch, opts), 'official').sparse / countFlops(dense(arch), 'official').dense;
const r4 = (x: number): number => Number(x.toFixed(4));
const S = [0.5, 0.75, 0.9] as const;

describe('dense ResNets equal the published figures', () => {
  it('ResNet-18 ImageNet: 11,689,512 params, 3,647,128,359 official FLOPs', () => {
    expect(params(RESNET18_IMAGENET, { family: 'dense', sparsity: 0 })).toBe(11_689_512);
    expect(countFlops(dense(RESNET18_IMAGENET), 'official').dense).toBe(3_647_128_359);
  });
  it('ResNet-34 ImageNet: 21,797,672 params, 7,355,270,501 official FLOPs', () => {
    expect(params(RESNET34_IMAGENET, { family: 'dense', sparsity: 0 })).toBe(21_797_672);
    expect(countFlops(dense(RESNET34_IMAGENET), 'official').dense).toBe(7_355_270_501);
  });
  it('ResNet-18 CIFAR-100: 11,220,132 params, 1,115,226,800 official FLOPs', () => {
    expect(params(RESNET18_CIFAR, { family: 'dense', sparsity: 0 })).toBe(11_220_132);
    expect(countFlops(dense(RESNET18_CIFAR), 'official').dense).toBe(1_115_226_800);
    expect(resnetFlopBudget(RESNET18_CIFAR)).toBe(1_115_226_800);
  });
  it('ResNet-18 ImageNet paper-convention MACs: the well-known 1.81 G', () => {
    // torchvision resnet18: 1.814 GMACs (conv + fc)
    expect(countFlops(dense(RESNET18_IMAGENET), 'paper').dense / 1e9).toBeCloseTo(1.814, 3);
  });
  it('ResNet-34 CIFAR-100: 21,328,292 params (ResNet-34 ImageNet minus the 7×7 stem and the 1000-way FC)', () => {
    // 21,797,672 − 7·7·3·64 + 3·3·3·64 − (512·1000 + 1000) + (512·100 + 100)
    expect(params(RESNET34_CIFAR, { family: 'dense', sparsity: 0 })).toBe(21_797_672 - 9408 + 1728 - 513_000 + 51_300);
  });
});

describe('CIFAR-100 ResNet-18 (docs/reference-values.md#cifar-100-resnet-18)', () => {
  it('Sparse Wide: widths 90/128/202, params, searched sparsities 0.4958/0.7518/0.9012', () => {
    const resolved = S.map((s) => resolveResNet(RESNET18_CIFAR, { family: 'sparse-wide', sparsity: s }));
    expect(resolved.map((r) => r.width)).toEqual([90, 128, 202]);
    expect(resolved.map((r) => r4(r.maskSparsity))).toEqual([0.4958, 0.7518, 0.9012]);
    expect(S.map((s) => params(RESNET18_CIFAR, { family: 'sparse-wide', sparsity: s }))).toEqual([22_152_430, 44_755_172, 111_347_550]);
    // before the search, at nominal s
    expect(S.map((s) => r4(ratio(RESNET18_CIFAR, { family: 'sparse-wide', sparsity: s, flopBudgetSearch: false })))).toEqual([0.9917, 1.0071, 1.0116]);
    // after it, within the search's ±0.1 % (exact for the deterministic solve)
    for (const s of S) expect(Math.abs(ratio(RESNET18_CIFAR, { family: 'sparse-wide', sparsity: s }) - 1)).toBeLessThan(1e-3);
  });
  it('Sparse Parallel (no psum BNs): params and FLOP ratios', () => {
    expect(S.map((s) => params(RESNET18_CIFAR, { family: 'sparse-parallel', sparsity: s }))).toEqual([22_213_284, 44_199_588, 110_158_500]);
    // the official module's two unused psum BNs per block: 2 blocks per stage × 2 BNs × (γ, β) × C
    const psum = 2 * 2 * 2 * (64 + 128 + 256 + 512);
    expect(22_213_284 + psum).toBe(22_220_964);
    expect(S.map((s) => r4(ratio(RESNET18_CIFAR, { family: 'sparse-parallel', sparsity: s })))).toEqual([0.9974, 1.0008, 1.0176]);
  });
  it('Sparse Factorized (nonlinear_relu): params and FLOP ratios', () => {
    expect(S.map((s) => params(RESNET18_CIFAR, { family: 'sparse-factorized', sparsity: s }))).toEqual([22_232_206, 44_222_632, 110_190_216]);
    expect(S.map((s) => r4(ratio(RESNET18_CIFAR, { family: 'sparse-factorized', sparsity: s })))).toEqual([1.0033, 1.0051, 1.0221]);
  });
  it('Sparse Factorized inner widths per (Cin, Cout) pair (docs/reference-values.md#cifar-100-resnet-18)', () => {
    const pairs = [[64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 512], [512, 512]] as const;
    const inner = (s: number) => {
      const list = ops(RESNET18_CIFAR, { family: 'sparse-factorized', sparsity: s });
      return pairs.map(([cin, cout]) => {
        const u = list.find((o) => o.kind === 'conv2d' && o.name.endsWith('_conv1_u') && o.inChannels === cin && (list.find((v) => v.name === o.name.replace(/_u$/, '_v')) as { outChannels: number }).outChannels === cout)
          ?? list.find((o) => o.kind === 'conv2d' && o.name.endsWith('_conv2_u') && o.inChannels === cin && cin === cout);
        return u && u.kind === 'conv2d' ? u.outChannels : -1;
      });
    };
    expect(inner(0.5)).toEqual([116, 210, 231, 419, 461, 838, 922]);
    expect(inner(0.9)).toEqual([577, 1048, 1153, 2095, 2305, 4190, 4609]);
    // and they are core's numbers
    expect(sparseFactorizedWidth(9 * 64, 64, 0.75)).toBe(231);
  });
  it('Sparse Doped: params, U,V dense ratios and the released (U,V masked) ratios', () => {
    expect(S.map((s) => params(RESNET18_CIFAR, { family: 'sparse-doped', sparsity: s }))).toEqual([16_698_276, 19_440_804, 21_087_524]);
    expect(S.map((s) => r4(ratio(RESNET18_CIFAR, { family: 'sparse-doped', sparsity: s })))).toEqual([0.9889, 0.9887, 0.9839]);
    expect(S.map((s) => r4(ratio(RESNET18_CIFAR, { family: 'sparse-doped', sparsity: s, dopedMaskLowRank: true })))).toEqual([0.7462, 0.4387, 0.1942]);
    const ranks = ops(RESNET18_CIFAR, { family: 'sparse-doped', sparsity: 0.75 })
      .filter((o) => o.kind === 'conv2d' && o.name.endsWith('_u'))
      .map((o) => (o.kind === 'conv2d' ? o.outChannels : -1));
    expect(new Set(ranks)).toEqual(new Set([43, 78, 86, 157, 172, 314, 345]));
    expect(sparseDopedRank(9 * 512, 512, 0.9)).toBe(414);
  });
});

describe('ImageNet (docs/reference-values.md#imagenet)', () => {
  const table: [ResNetArch, number[], number[], number[], number[], number[]][] = [
    [RESNET18_IMAGENET, [22_812_130, 45_693_032, 112_827_090], [1.0181, 1.0702, 1.1479], [0.5098, 0.7689, 0.916], [22_682_664, 44_668_968, 110_627_880], [0.9976, 1.0007, 1.0165]],
    [RESNET34_IMAGENET, [42_797_170, 86_110_824, 213_473_186], [1.0038, 1.036, 1.074], [0.502, 0.7593, 0.9077], [42_898_984, 85_101_608, 211_709_480], [1.0, 1.0039, 1.0189]],
  ];
  for (const [arch, swParams, swNominal, swSearched, spParams, spRatio] of table) {
    it(`${arch.name}: Sparse Wide and Sparse Parallel (ImageNet block)`, () => {
      expect(S.map((s) => params(arch, { family: 'sparse-wide', sparsity: s }))).toEqual(swParams);
      expect(S.map((s) => r4(ratio(arch, { family: 'sparse-wide', sparsity: s, flopBudgetSearch: false })))).toEqual(swNominal);
      expect(S.map((s) => r4(resolveResNet(arch, { family: 'sparse-wide', sparsity: s }).maskSparsity))).toEqual(swSearched);
      expect(S.map((s) => params(arch, { family: 'sparse-parallel', sparsity: s }))).toEqual(spParams);
      expect(S.map((s) => r4(ratio(arch, { family: 'sparse-parallel', sparsity: s })))).toEqual(spRatio);
    });
  }
});

describe('every transformed conv is iso-FLOP within core\'s rounding bound (paper convention)', () => {
  const families: Family[] = ['sparse-parallel', 'sparse-factorized', 'sparse-doped'];
  for (const arch of [RESNET18_CIFAR, RESNET34_IMAGENET]) {
    for (const family of families) {
      it(`${arch.name} ${family}`, () => {
        const base = dense(arch).filter((o) => o.kind === 'conv2d' && /_conv[12]$/.test(o.name));
        for (const s of S) {
          const list = ops(arch, { family, sparsity: s });
          for (const d of base) {
            if (d.kind !== 'conv2d') continue;
            const positions = d.outHeight * d.outWidth;
            const denseMacs = 9 * d.inChannels * d.outChannels * positions;
            const transformed = list.filter((o) => o.kind === 'conv2d' && o.name.startsWith(`${d.name}_`));
            const macs = transformed.reduce((sum, o) => sum + (o.kind === 'conv2d' ? o.kernelSize[0] * o.kernelSize[1] * o.inChannels * o.outChannels * positions * (o.masked ? o.density : 1) : 0), 0);
            const bound = isoFlopRoundingBound({ kind: 'conv', kernelSize: [3, 3], inChannels: d.inChannels, outChannels: d.outChannels }, family, s) * positions;
            expect(transformed.length).toBeGreaterThan(0);
            expect(Math.abs(macs - denseMacs)).toBeLessThanOrEqual(bound + 1e-6 * denseMacs);
          }
        }
      });
    }
    it(`${arch.name} sparse-wide is iso-FLOP over the whole network after the budget solve`, () => {
      for (const s of S) expect(Math.abs(ratio(arch, { family: 'sparse-wide', sparsity: s }) - 1)).toBeLessThan(1e-3);
    });
  }
});
