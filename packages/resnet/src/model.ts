/**
 * The tf.js ResNet (NHWC), dense or with any Sparse-IFT family, as the official model files build it
 * (docs/recipes.md#cifar-100-resnet-18, docs/recipes.md#imagenet-resnet; `cifar_resnet18.py`, `resnet_basic.py`). Block convs come from core's
 * `sparseIftConv2D`; what stays dense is decided by role, not shape (docs/sparse-ift.md#which-layers, docs/sparse-training.md#masked-tensors):
 *   stem conv, BN, FC: dense (plain Conv2D / core's BatchNorm, ReLU and residual add fused in / Dense);
 *   block 3×3 convs: transformed by the family and masked at s (SD's U, V dense unless `dopedMaskLowRank`);
 *   shortcut 1×1 conv: one copy, masked at s in every sparse family (the released filter does).
 * Stride-2 convs and the max-pool pad explicitly (ZeroPadding2D + 'valid') so the windows line up
 * with PyTorch's symmetric padding; tf.js 'same' would pad only bottom/right.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BatchNorm,
  MaskedConv2D,
  countedLayerName,
  kaimingNormal,
  BuildSeeds,
  seededInitializer,
  sparseIftConv2D,
  tensorMaskSeed,
  tensorSeed,
  torchLinearInit,
} from '@sparse-ift/core';
import { blockFamilyOptions, resolveResNet, type ResNetArch, type ResNetOptions, type ResolvedResNet } from './config.js';

type Sym = tfl.SymbolicTensor;

const BN_MOMENTUM = 0.9; // tf.js momentum = 1 − PyTorch's 0.1
const BN_EPSILON = 1e-5;

/**
 * Core's BatchNorm: one fused kernel pair per BN in training (with the ReLU and the residual add fused
 * in where the block has them), where tf.js' own BatchNormalization + Activation + Add run ~20 kernels.
 */
function batchNorm(name: string, opts: { zeroGamma?: boolean; relu?: boolean } = {}): tfl.layers.Layer {
  return new BatchNorm({
    name,
    momentum: BN_MOMENTUM,
    epsilon: BN_EPSILON,
    gammaInitializer: opts.zeroGamma ? 'zeros' : 'ones',
    betaInitializer: 'zeros',
    relu: opts.relu ?? false,
  });
}

const reluLayer = (name: string) => tfl.layers.activation({ name, activation: 'relu' });
const apply = (layer: tfl.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/** Kaiming-normal fan-out (the official `init_weights` for every Conv2d), seeded as tensor 0 of a layer. */
const convInit = (weightSeed: number | undefined) => seededInitializer(kaimingNormal({ mode: 'fanOut' }), tensorSeed(weightSeed, 0));

/** Output of one transformed 3×3 conv (before the block's own BN), stride 1 or 2. */
function blockConv(x: Sym, r: ResolvedResNet, name: string, filters: number, stride: number, layers: BuildSeeds): Sym {
  const input = stride === 2 ? apply(tfl.layers.zeroPadding2d({ name: `${name}_pad`, padding: 1 }), x) : x;
  return sparseIftConv2D(input, {
    name,
    ...blockFamilyOptions(r),
    filters,
    kernelSize: 3,
    strides: stride,
    padding: stride === 2 ? 'valid' : 'same',
    useBias: false,
    kernelInitializer: kaimingNormal({ mode: 'fanOut' }),
    ...layers.next(),
    batchNorm: { momentum: BN_MOMENTUM, epsilon: BN_EPSILON },
  });
}

function basicBlock(x: Sym, r: ResolvedResNet, p: string, cin: number, cout: number, stride: number, layers: BuildSeeds): Sym {
  // Sparse Parallel: each branch carries its own BN (inside sparseIftConv2D); the official CIFAR
  // module's two extra BNs (bn1_psum, bn2_psum) are never used in its forward pass and are left out.
  const parallel = r.family === 'sparse-parallel';
  // Zero-init of the last BN γ only in the plain Block (dense and Sparse Wide): docs/recipes.md#cifar-100-resnet-18.
  const plain = r.family === 'dense' || r.family === 'sparse-wide';
  let h = blockConv(x, r, `${p}_conv1`, cout, stride, layers);
  h = parallel ? apply(reluLayer(`${p}_relu1`), h) : apply(batchNorm(`${p}_bn1`, { relu: true }), h);
  h = blockConv(h, r, `${p}_conv2`, cout, 1, layers);
  let shortcut = x;
  if (stride !== 1 || cin !== cout) {
    const sparse = r.family !== 'dense';
    const { weightSeed, maskSeed } = layers.next();
    const conv = new MaskedConv2D({
      name: `${p}_shortcut`,
      filters: cout,
      kernelSize: 1,
      strides: stride,
      padding: 'valid',
      useBias: false,
      kernelInitializer: convInit(weightSeed),
      // Not transformed (one copy) but masked at s like the released filter does (docs/sparse-ift.md#which-layers).
      role: r.family === 'sparse-wide' ? 'wide-weight' : 'dense-weight',
      masked: sparse,
      sparsity: sparse ? r.maskSparsity : 0,
      maskSeed: tensorMaskSeed(maskSeed, 0),
    });
    shortcut = apply(batchNorm(`${p}_shortcut_bn`), apply(conv, x));
  }
  if (!parallel) {
    // relu(bn2(h) + shortcut) as one layer.
    return apply(batchNorm(`${p}_bn2`, { zeroGamma: plain && r.zeroInitResidual, relu: true }), [h, shortcut]);
  }
  const sum = apply(tfl.layers.add({ name: `${p}_add` }), [h, shortcut]);
  return apply(reluLayer(`${p}_relu2`), sum);
}

/** Builds the model for a resolved configuration (see `buildResNet` for the usual entry point). */
export function buildResolvedResNet(r: ResolvedResNet): tfl.LayersModel {
  const layers = new BuildSeeds(r.seed); // each layer's seeds, in build order (docs/seeding.md)
  const [h, w, c] = r.arch.inputShape;
  const input = tfl.input({ shape: [h, w, c], name: 'image' });
  const width = r.width;
  let x: Sym;
  const stemInit = convInit(layers.next().weightSeed);
  if (r.arch.stem === 'cifar') {
    x = apply(tfl.layers.conv2d({ name: 'stem_conv', filters: width, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: stemInit }), input);
  } else {
    x = apply(tfl.layers.zeroPadding2d({ name: 'stem_pad', padding: 3 }), input);
    x = apply(tfl.layers.conv2d({ name: 'stem_conv', filters: width, kernelSize: 7, strides: 2, padding: 'valid', useBias: false, kernelInitializer: stemInit }), x);
  }
  x = apply(batchNorm('stem_bn', { relu: true }), x);
  if (r.arch.stem === 'imagenet') {
    // Zero padding equals PyTorch's −∞ padding here: the input is post-ReLU (≥ 0).
    x = apply(tfl.layers.zeroPadding2d({ name: 'stem_pool_pad', padding: 1 }), x);
    x = apply(tfl.layers.maxPooling2d({ name: 'stem_pool', poolSize: 3, strides: 2, padding: 'valid' }), x);
  }
  let cin = width;
  r.stages.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      x = basicBlock(x, r, `s${s}b${b}`, cin, stage.width, stride, layers);
      cin = stage.width;
    }
  });
  if (r.arch.stem === 'cifar') {
    x = apply(tfl.layers.averagePooling2d({ name: 'avgpool', poolSize: 4, strides: 4, padding: 'valid' }), x);
    if (x.shape[1] !== 1 || x.shape[2] !== 1) {
      throw new Error(`the CIFAR head avg-pools 4×4 to 1×1; input ${r.arch.inputShape.join('×')} leaves ${x.shape.slice(1, 3).join('×')}, use 28×28 to 32×32 inputs`);
    }
    x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
  } else {
    x = apply(tfl.layers.globalAveragePooling2d({ name: countedLayerName('avgpool') }), x);
  }
  const logits = apply(tfl.layers.dense({ name: 'fc', units: r.arch.numClasses, ...torchLinearInit(cin, layers.next().weightSeed) }), x);
  return tfl.model({ inputs: input, outputs: logits, name: r.arch.name });
}

/**
 * A ResNet for an architecture and family: `buildResNet(RESNET18_CIFAR, {family: 'sparse-wide', sparsity: 0.9})`.
 * Outputs logits [batch, numClasses].
 */
export function buildResNet(arch: ResNetArch, opts: ResNetOptions): tfl.LayersModel {
  return buildResolvedResNet(resolveResNet(arch, opts));
}

/** Convenience for tests and tools: a seeded random NHWC batch shaped for a model's input. */
export function randomImages(model: tfl.LayersModel, batch: number, seed = 0): tf.Tensor4D {
  const [h, w, c] = model.inputs[0]!.shape.slice(1) as [number, number, number];
  return tf.randomNormal([batch, h, w, c], 0, 1, 'float32', seed);
}
