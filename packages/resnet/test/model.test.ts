/**
 * The tf.js models (small config, every family): the FLOP walker's reading of the built model equals
 * the definition's op list, parameter counts agree, the official init holds, masks have the expected
 * density, save/load round-trips, and one SGD step lowers the loss on a fixed batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@sparse-ift/backend';
import { MaskedConv2D, collectMaskedParams, countFlops, modelFlopOps, modelParamCount, planFromOps, type Family } from '@sparse-ift/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESNET_MINI_CIFAR, RESNET18_CIFAR, RESNET18_IMAGENET, buildResolvedResNet, resnetOps, resolveResNet, type ResNetArch, type ResNetOptions } from '@sparse-ift/resnet';

beforeAll(async () => {
  // wasm with the project's training kernels (much faster convs than the JS cpu backend)
  await initBackend({ backend: 'wasm' });
}, 120_000);

/** The small config at width 4, so every family trains a step in well under a second. */
const TINY: ResNetArch = { ...RESNET_MINI_CIFAR, name: 'resnet-tiny-test', baseWidth: 4 };

const FAMILIES: [Family, number][] = [
  ['dense', 0],
  ['sparse-wide', 0.75],
  ['sparse-parallel', 0.75],
  ['sparse-factorized', 0.75],
  ['sparse-doped', 0.75],
];

/** Ops by name, without `role` (the op list names roles such as 'stem'/'head'; a tf.js layer cannot). */
function byName<T extends { name: string; role?: string }>(list: T[]): Record<string, Omit<T, 'role'>> {
  return Object.fromEntries(list.map(({ role: _role, ...o }) => [o.name, o]));
}

/** In the dense model the block convs are plain Conv2D: tell the walker which layers a family transforms. */
const blockConvs = (layer: { name: string }): boolean => /_conv[12]|_shortcut$/.test(layer.name);

function std(values: Float32Array | Int32Array | Uint8Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let s = 0;
  for (const v of values) s += (v - mean) ** 2;
  return Math.sqrt(s / values.length);
}

describe.each(FAMILIES)('resnet-mini-cifar at width 4, %s', (family, sparsity) => {
  const opts: ResNetOptions = { family, sparsity, seed: 7 };

  it('the walker reads the same ops from the tf.js model as the op list, and the same params', () => {
    const r = resolveResNet(TINY, opts);
    const model = buildResolvedResNet(r);
    const walked = modelFlopOps(model, { density: 'target', maskable: blockConvs });
    expect(byName(walked)).toEqual(byName(resnetOps(r)));
    expect(modelParamCount(model)).toBe(planFromOps(resnetOps(r)).totals.params);
    model.dispose();
  });

  it('masks: Bernoulli(1 − s) on masked tensors, none on stem and head', () => {
    const r = resolveResNet(TINY, opts);
    const model = buildResolvedResNet(r);
    let ones = 0;
    let total = 0;
    for (const layer of model.layers) {
      if (!(layer instanceof MaskedConv2D) || !layer.masked) continue;
      const m = layer.maskVariable().dataSync();
      ones += m.reduce((a, b) => a + b, 0);
      total += m.length;
      // masked entries of the kernel start at exactly 0 (docs/sparse-training.md#mask-init)
      const k = layer.kernelVariable().dataSync();
      expect(k.filter((v, i) => m[i] === 0 && v !== 0).length).toBe(0);
    }
    if (family === 'dense') {
      expect(total).toBe(0);
    } else {
      const p = 1 - r.maskSparsity;
      // within 5 standard deviations of the binomial
      expect(Math.abs(ones / total - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / total));
    }
    expect(model.getLayer('stem_conv').getClassName()).toBe('Conv2D');
    expect(model.getLayer('fc').getClassName()).toBe('Dense');
    model.dispose();
  });

  // The 1×1 shortcuts of SP/SF/SD keep the 'dense-weight' role but are masked at s (docs/sparse-ift.md#which-layers):
  // the `masked` flag, not the role, decides what training sees.
  it('collectMaskedParams finds every masked tensor of the op list (shortcuts included)', () => {
    const r = resolveResNet(TINY, opts);
    const model = buildResolvedResNet(r);
    const maskedOps = resnetOps(r).filter((o) => o.kind === 'conv2d' && o.masked).map((o) => o.name).sort();
    expect(collectMaskedParams(model).map((p) => p.layerName).sort()).toEqual(maskedOps);
    model.dispose();
  });

  it('official init: Kaiming fan-out convs, BN γ=1 β=0, zero-init last BN only in plain blocks, FC U(±1/√fan_in)', () => {
    const r = resolveResNet(TINY, opts);
    const model = buildResolvedResNet(r);
    // stem: 3×3×3×W, std sqrt(2/(W·9))
    const stem = model.getLayer('stem_conv').getWeights()[0]!.dataSync();
    expect(std(stem) / Math.sqrt(2 / (r.width * 9))).toBeGreaterThan(0.85);
    expect(std(stem) / Math.sqrt(2 / (r.width * 9))).toBeLessThan(1.15);
    // an unmasked-equivalent check on a block conv: std of the kept weights
    const [gamma, beta] = model.getLayer('stem_bn').getWeights();
    expect([...gamma!.dataSync()].every((v) => v === 1)).toBe(true);
    expect([...beta!.dataSync()].every((v) => v === 0)).toBe(true);
    if (family === 'dense' || family === 'sparse-wide') {
      expect([...model.getLayer('s0b0_bn2').getWeights()[0]!.dataSync()].every((v) => v === 0)).toBe(true);
      expect([...model.getLayer('s0b0_bn1').getWeights()[0]!.dataSync()].every((v) => v === 1)).toBe(true);
    } else if (family === 'sparse-parallel') {
      expect([...model.getLayer('s0b0_conv2_sp0_bn').getWeights()[0]!.dataSync()].every((v) => v === 1)).toBe(true);
    } else {
      expect([...model.getLayer('s0b0_bn2').getWeights()[0]!.dataSync()].every((v) => v === 1)).toBe(true);
    }
    const [fcW, fcB] = model.getLayer('fc').getWeights();
    const bound = 1 / Math.sqrt(8 * r.width);
    for (const v of [...fcW!.dataSync(), ...fcB!.dataSync()]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    // uniform on ±b has std b/√3
    expect(std(fcW!.dataSync()) / (bound / Math.sqrt(3))).toBeGreaterThan(0.8);
    model.dispose();
  });

  it('save/load round trip: identical outputs and masks', async () => {
    const model = buildResolvedResNet(resolveResNet(TINY, opts));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect([...b]).toEqual([...a]);
    for (const layer of model.layers) {
      if (!(layer instanceof MaskedConv2D)) continue;
      const twin = loaded.getLayer(layer.name);
      expect(twin).toBeInstanceOf(MaskedConv2D);
      expect([...(twin as MaskedConv2D).maskVariable().dataSync()]).toEqual([...layer.maskVariable().dataSync()]);
    }
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('one SGD step lowers the loss on a fixed batch', () => {
    const model = buildResolvedResNet(resolveResNet(TINY, opts));
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 11);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const before = tf.tidy(() => loss().dataSync()[0]!);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    tf.train.sgd(0.05).minimize(loss, false, vars);
    const after = tf.tidy(() => loss().dataSync()[0]!);
    expect(after).toBeLessThan(before);
    // the masked entries got no gradient: still exactly 0
    for (const layer of model.layers) {
      if (!(layer instanceof MaskedConv2D) || !layer.masked) continue;
      const m = layer.maskVariable().dataSync();
      const k = layer.kernelVariable().dataSync();
      expect(k.filter((v, i) => m[i] === 0 && v !== 0).length).toBe(0);
    }
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('other shapes', () => {
  it('ImageNet stem: PyTorch-aligned padding keeps 224 → 112 → 56 → 28 → 14 → 7', () => {
    const r = resolveResNet({ ...RESNET18_IMAGENET, baseWidth: 8, blocksPerStage: [1, 1, 1, 1] }, { family: 'sparse-parallel', sparsity: 0.5 });
    const model = buildResolvedResNet(r);
    expect(model.getLayer('stem_conv').outputShape).toEqual([null, 112, 112, 8]);
    expect(model.getLayer('stem_pool').outputShape).toEqual([null, 56, 56, 8]);
    expect(model.getLayer('s3b0_relu2').outputShape).toEqual([null, 7, 7, 64]);
    // ImageNet SP block: BN + ReLU per branch (docs/sparse-ift.md#sparse-parallel)
    expect(model.getLayer('s0b0_conv1_sp1_relu').getClassName()).toBe('Activation');
    expect(byName(modelFlopOps(model, { density: 'target', maskable: blockConvs }))).toEqual(byName(resnetOps(r)));
    model.dispose();
  });

  it('a stride-2 conv pads symmetrically like PyTorch (pad 1 each side), not TF-same', () => {
    // 4×4 input of ones into a 3×3 stride-2 all-ones conv: PyTorch output [[4,6],[6,9]]; TF 'same' gives [[9,6],[6,4]].
    const input = tfl.input({ shape: [4, 4, 1] });
    const padded = tfl.layers.zeroPadding2d({ padding: 1 }).apply(input) as tfl.SymbolicTensor;
    const conv = tfl.layers.conv2d({ filters: 1, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: 'ones' });
    const m = tfl.model({ inputs: input, outputs: conv.apply(padded) as tfl.SymbolicTensor });
    expect([...(m.predict(tf.ones([1, 4, 4, 1])) as tf.Tensor).dataSync()]).toEqual([4, 6, 6, 9]);
    m.dispose();
  });

  it('full dense ResNet-18 CIFAR: the walker reads 1,115,226,800 official FLOPs and 11,220,132 params off the tf.js model', () => {
    const model = buildResolvedResNet(resolveResNet(RESNET18_CIFAR, { family: 'dense', sparsity: 0 }));
    const walked = modelFlopOps(model, { maskable: blockConvs });
    expect(countFlops(walked, 'official').dense).toBe(1_115_226_800);
    expect(modelParamCount(model)).toBe(11_220_132);
    model.dispose();
  });

  it('28×28×1 inputs (Fashion-MNIST) work with the CIFAR head', () => {
    const r = resolveResNet(TINY, { family: 'sparse-doped', sparsity: 0.5, inputShape: [28, 28, 1] });
    const model = buildResolvedResNet(r);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(byName(modelFlopOps(model, { density: 'target', maskable: blockConvs }))).toEqual(byName(resnetOps(r)));
    model.dispose();
  });
});
