/**
 * The tf.js ResNet (NHWC), dense or with any Sparse-IFT family, as the official model files build it
 * (spec §4.1, §4.2; `cifar_resnet18.py`, `resnet_basic.py`). Block convs come from core's
 * `sparseIftConv2D`; what stays dense is decided by role, not shape (spec §2.6, §3.1):
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
  sparseIftConv2D,
  type Family,
} from '@sparse-ift/core';
import { resolveResNet, type ResNetArch, type ResNetOptions, type ResolvedResNet } from './config.js';

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

/** Seeds: a distinct stream per layer, derived from the model seed. */
class SeedStream {
  private next = 0;
  constructor(private readonly base: number | undefined) {}
  /** `span` consecutive seeds (sparseIftConv2D gives its i-th kernel maskSeed + i). */
  take(span = 1): number | undefined {
    if (this.base === undefined) return undefined;
    const s = this.base * 100_003 + this.next;
    this.next += span;
    return s;
  }
}

/** Output of one transformed 3×3 conv (before the block's own BN), stride 1 or 2. */
function blockConv(x: Sym, r: ResolvedResNet, name: string, filters: number, stride: number, seeds: SeedStream): Sym {
  const input = stride === 2 ? apply(tfl.layers.zeroPadding2d({ name: `${name}_pad`, padding: 1 }), x) : x;
  const family: Family = r.family;
  return sparseIftConv2D(input, {
    name,
    family,
    sparsity: r.maskSparsity,
    filters,
    kernelSize: 3,
    strides: stride,
    padding: stride === 2 ? 'valid' : 'same',
    useBias: false,
    kernelInitializer: kaimingNormal({ mode: 'fanOut' }),
    maskSeed: seeds.take(16),
    middle: r.factorizedMiddle,
    uOnly: r.factorizedUOnly,
    maskLowRank: r.dopedMaskLowRank,
    parallelBranchNorm: r.parallelBranchNorm,
    batchNorm: { momentum: BN_MOMENTUM, epsilon: BN_EPSILON },
  });
}

function basicBlock(x: Sym, r: ResolvedResNet, p: string, cin: number, cout: number, stride: number, seeds: SeedStream): Sym {
  // Sparse Parallel: each branch carries its own BN (inside sparseIftConv2D); the official CIFAR
  // module's two extra BNs (bn1_psum, bn2_psum) are never used in its forward pass and are left out.
  const parallel = r.family === 'sparse-parallel';
  // Zero-init of the last BN γ only in the plain Block (dense and Sparse Wide), spec §4.1.
  const plain = r.family === 'dense' || r.family === 'sparse-wide';
  let h = blockConv(x, r, `${p}_conv1`, cout, stride, seeds);
  h = parallel ? apply(reluLayer(`${p}_relu1`), h) : apply(batchNorm(`${p}_bn1`, { relu: true }), h);
  h = blockConv(h, r, `${p}_conv2`, cout, 1, seeds);
  let shortcut = x;
  if (stride !== 1 || cin !== cout) {
    const sparse = r.family !== 'dense';
    const conv = new MaskedConv2D({
      name: `${p}_shortcut`,
      filters: cout,
      kernelSize: 1,
      strides: stride,
      padding: 'valid',
      useBias: false,
      kernelInitializer: kaimingNormal({ mode: 'fanOut' }),
      // Not transformed (one copy) but masked at s like the released filter does (spec §2.6).
      role: r.family === 'sparse-wide' ? 'wide-weight' : 'dense-weight',
      masked: sparse,
      sparsity: sparse ? r.maskSparsity : 0,
      maskSeed: seeds.take(),
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
  const seeds = new SeedStream(r.seed);
  const [h, w, c] = r.arch.inputShape;
  const input = tfl.input({ shape: [h, w, c], name: 'image' });
  const width = r.width;
  let x: Sym;
  if (r.arch.stem === 'cifar') {
    x = apply(tfl.layers.conv2d({ name: 'stem_conv', filters: width, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: kaimingNormal({ mode: 'fanOut' }) }), input);
  } else {
    x = apply(tfl.layers.zeroPadding2d({ name: 'stem_pad', padding: 3 }), input);
    x = apply(tfl.layers.conv2d({ name: 'stem_conv', filters: width, kernelSize: 7, strides: 2, padding: 'valid', useBias: false, kernelInitializer: kaimingNormal({ mode: 'fanOut' }) }), x);
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
      x = basicBlock(x, r, `s${s}b${b}`, cin, stage.width, stride, seeds);
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
  // PyTorch's nn.Linear default: kaiming_uniform(a=√5) → U(±1/√fan_in) for weight and bias.
  const bound = 1 / Math.sqrt(cin);
  const fcSeed = seeds.take(2);
  const logits = apply(
    tfl.layers.dense({
      name: 'fc',
      units: r.arch.numClasses,
      kernelInitializer: tfl.initializers.randomUniform({ minval: -bound, maxval: bound, ...(fcSeed !== undefined ? { seed: fcSeed } : {}) }),
      biasInitializer: tfl.initializers.randomUniform({ minval: -bound, maxval: bound, ...(fcSeed !== undefined ? { seed: fcSeed + 1 } : {}) }),
    }),
    x,
  );
  const model = tfl.model({ inputs: input, outputs: logits, name: r.arch.name });
  if (r.seed !== undefined) reseedConvKernels(model, r.seed);
  return model;
}

/**
 * Seeded builds: redraw every conv kernel from Kaiming-normal fan-out with its own seed, then
 * re-apply its mask, as the official `init_weights` re-initialises every Conv2d after construction.
 * (An initializer object is shared by the branches of a Sparse Parallel block, so seeding it would
 * give identical branches.)
 */
function reseedConvKernels(model: tfl.LayersModel, seed: number): void {
  let index = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'MaskedConv2D') continue;
    const kernel = layer.weights.find((w) => w.originalName.endsWith('/kernel'));
    if (kernel === undefined) continue;
    const shape = kernel.shape as number[];
    const fresh = tf.tidy(() => {
      const w = kaimingNormal({ mode: 'fanOut', seed: seed * 7_919 + 1_000_003 + index }).apply(shape);
      return layer instanceof MaskedConv2D ? tf.mul(w, layer.maskVariable()) : w;
    });
    kernel.write(fresh);
    fresh.dispose();
    index += 1;
  }
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
