// The two benchmark models in plain tfjs-core ops (variables + a forward function), mirrored exactly
// by torch_models.py: CIFAR ResNet-18 (BasicBlocks, BN in training mode, stem 3x3 conv, no max-pool)
// and a small GPT (pre-LN blocks, causal attention, GELU MLP). Written here rather than taken from
// packages/resnet and packages/gpt so the benchmark does not move while those zoos are being written,
// and so that the PyTorch twin is easy to check line by line.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../packages/core/src/rng.js';
import { batchNormTrain } from '../../packages/core/src/ops/batch-norm.js';
import { gelu as fusedGelu } from '../../packages/core/src/ops/gelu.js';
import { layerNorm as fusedLayerNorm } from '../../packages/core/src/ops/layer-norm.js';
import { maskedConv2d } from '../../packages/core/src/ops/masked.js';
import { SGD } from '../../packages/core/src/optimizers.js';

export interface Model {
  name: string;
  variables: tf.Variable[];
  /** Scalar training loss for one batch. */
  loss: () => tf.Scalar;
  /** Forward multiply-adds of one batch in convs/matmuls (a step is counted as 3x forward). */
  forwardMacs: number;
  /** Run after each optimizer step (masked-dense models: re-apply the masks). */
  afterStep?: () => void;
  /** The forward alone (inference latency), where the model has one. */
  forward?: () => tf.Tensor;
}

/** What a benchmark step calls: a tf.js optimizer, or {@link coreMomentum}. */
export interface StepOptimizer {
  minimize(f: () => tf.Scalar, returnCost: boolean, varList: tf.Variable[]): tf.Scalar | null;
  dispose(): void;
}

/**
 * Core's SGD with momentum 0.9 (the trainer's optimizer; the same update as tf.train.momentum(lr, 0.9)):
 * one fused kernel per variable on the native backend, where tf.js' optimizer runs four.
 */
export function coreMomentum(learningRate: number, variables: tf.Variable[]): StepOptimizer {
  const sgd = new SGD(variables, { learningRate, momentum: 0.9 });
  return {
    minimize: (f, returnCost, varList) => {
      const { value, grads } = tf.variableGrads(f, varList);
      sgd.applyGradients(grads);
      tf.dispose(grads);
      if (returnCost) return value;
      value.dispose();
      return null;
    },
    dispose: () => sgd.dispose(),
  };
}

/** Seeded uniform floats in [0, 1) from core's Rng: seeds for tf.js's initialisers and token ids. */
function rng(seed: number): () => number {
  const generator = Rng.fromSeed(seed);
  return () => generator.uniform();
}

export interface ResNetOptions {
  batch: number;
  /** First-stage width (64 dense; Sparse Wide: sparseWideWidth(64, s)). */
  width: number;
  /**
   * Sparsity of the masked convs (all but the stem; 0 = dense). Masked-dense, as the PyTorch twin: the
   * forward uses w, and w ← w * mask after every optimizer step.
   */
  sparsity: number;
  /**
   * How the masked convs compute: 'masked-dense' (conv2d on w, as the PyTorch twin) or 'sparse' (core's
   * maskedConv2d with the mask: the native backend's sparse kernels, or its dense ones where faster).
   * 'sparse' masks w once, at build: its gradient is dk ⊙ mask and momentum of zeros stays zero, so
   * w ⊙ mask after a step would change nothing (core's mask updater skips it for the same reason).
   */
  kernels?: 'masked-dense' | 'sparse';
  classes?: number;
}

export function resnet18(opts: ResNetOptions): Model {
  const classes = opts.classes ?? 10;
  const random = rng(1);
  const variables: tf.Variable[] = [];
  let macs = 0;
  const maskedWeights: { w: tf.Variable; mask: tf.Tensor }[] = [];
  const conv = (kh: number, cin: number, cout: number, masked: boolean) => {
    const w = tf.variable(tf.randomNormal([kh, kh, cin, cout], 0, Math.sqrt(2 / (kh * kh * cin)), 'float32', random() * 1e6));
    variables.push(w);
    let mask: tf.Tensor | undefined;
    if (masked && opts.sparsity > 0) {
      mask = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform(w.shape, 0, 1, 'float32', random() * 1e6), opts.sparsity), 'float32'));
      if (opts.kernels === 'sparse') tf.tidy(() => w.assign(tf.mul(w, mask!)));
    }
    if (mask) maskedWeights.push({ w, mask });
    return { w, mask };
  };
  const bn = (c: number) => {
    const gamma = tf.variable(tf.ones([c]));
    const beta = tf.variable(tf.zeros([c]));
    variables.push(gamma, beta);
    return { gamma, beta };
  };
  type Conv = ReturnType<typeof conv>;
  type BN = ReturnType<typeof bn>;
  const sparseKernels = opts.kernels === 'sparse';
  const applyConv = (x: tf.Tensor4D, c: Conv, stride: number, pad: 'same' | 'valid'): tf.Tensor4D =>
    (sparseKernels && c.mask ? maskedConv2d(x, c.w, c.mask, stride, pad) : tf.conv2d(x, c.w as tf.Tensor4D, stride, pad)) as tf.Tensor4D;
  // Core's fused training BN (+ residual + ReLU): one kernel pair on backends that register it
  // (wasm with @sparse-ift/backend), tf.moments + tf.batchNorm + add + relu elsewhere.
  const applyBn = (x: tf.Tensor4D, b: BN, relu: boolean, residual?: tf.Tensor4D): tf.Tensor4D =>
    batchNormTrain(x, b.gamma, b.beta, { epsilon: 1e-5, relu, residual }).y as tf.Tensor4D;
  const W = opts.width;
  let hw = 32;
  const stem = { c: conv(3, 3, W, false), bn: bn(W) };
  macs += hw * hw * 9 * 3 * W;
  interface Block { c1: Conv; b1: BN; c2: Conv; b2: BN; stride: number; short?: { c: Conv; b: BN } }
  const blocks: Block[] = [];
  let cin = W;
  for (const [stage, mult] of [1, 2, 4, 8].entries()) {
    const cout = W * mult;
    for (let i = 0; i < 2; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const outHw = hw / stride;
      const block: Block = { c1: conv(3, cin, cout, true), b1: bn(cout), c2: conv(3, cout, cout, true), b2: bn(cout), stride };
      macs += outHw * outHw * 9 * cin * cout + outHw * outHw * 9 * cout * cout;
      if (stride !== 1 || cin !== cout) {
        block.short = { c: conv(1, cin, cout, true), b: bn(cout) };
        macs += outHw * outHw * cin * cout;
      }
      blocks.push(block);
      cin = cout;
      hw = outHw;
    }
  }
  const fcW = tf.variable(tf.randomNormal([cin, classes], 0, Math.sqrt(1 / cin), 'float32', 7));
  const fcB = tf.variable(tf.zeros([classes]));
  variables.push(fcW, fcB);
  macs += cin * classes;
  const images = tf.randomNormal([opts.batch, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: opts.batch }, (_, i) => i % classes), 'int32'), classes);
  const forward = () => {
    let x = applyBn(applyConv(images, stem.c, 1, 'same'), stem.bn, true);
    for (const b of blocks) {
      const y = applyBn(applyConv(x, b.c1, b.stride, 'same'), b.b1, true);
      const s = b.short ? applyBn(applyConv(x, b.short.c, b.stride, 'valid'), b.short.b, false) : x;
      x = applyBn(applyConv(y, b.c2, 1, 'same'), b.b2, true, s); // relu(bn2(conv2(y)) + shortcut)
    }
    const pooled = tf.mean(x, [1, 2]);
    return tf.add(tf.matMul(pooled, fcW), fcB);
  };
  const loss = () => tf.losses.softmaxCrossEntropy(labels, forward()) as tf.Scalar;
  const masked = opts.sparsity > 0 ? ` masked ${opts.sparsity * 100}%${sparseKernels ? ' sparse kernels' : ''}` : '';
  return {
    name: `resnet18-cifar width ${W}${masked} batch ${opts.batch}`,
    variables,
    loss,
    forward,
    forwardMacs: macs * opts.batch,
    afterStep: maskedWeights.length === 0 || sparseKernels ? undefined : () => {
      for (const { w, mask } of maskedWeights) tf.tidy(() => w.assign(tf.mul(w, mask)));
    },
  };
}

export interface GptOptions {
  batch: number;
  context: number;
  dModel: number;
  layers: number;
  heads: number;
  vocab: number;
}

export function gpt(opts: GptOptions): Model {
  const { batch: B, context: T, dModel: D, layers: L, heads: H, vocab: V } = opts;
  const random = rng(2);
  const variables: tf.Variable[] = [];
  const param = (shape: number[], std: number | 'ones' | 'zeros') => {
    const v = tf.variable(std === 'ones' ? tf.ones(shape) : std === 'zeros' ? tf.zeros(shape) : tf.randomNormal(shape, 0, std, 'float32', random() * 1e6));
    variables.push(v);
    return v;
  };
  const wte = param([V, D], 0.02);
  const wpe = param([T, D], 0.02);
  const blocks = Array.from({ length: L }, () => ({
    ln1g: param([D], 'ones'), ln1b: param([D], 'zeros'),
    wqkv: param([D, 3 * D], 0.02), bqkv: param([3 * D], 'zeros'),
    wo: param([D, D], 0.02), bo: param([D], 'zeros'),
    ln2g: param([D], 'ones'), ln2b: param([D], 'zeros'),
    w1: param([D, 4 * D], 0.02), b1: param([4 * D], 'zeros'),
    w2: param([4 * D, D], 0.02), b2: param([D], 'zeros'),
  }));
  const lnfg = param([D], 'ones');
  const lnfb = param([D], 'zeros');
  const head = param([D, V], 0.02);
  const r = rng(3);
  const tokens = tf.tensor2d(Array.from({ length: B * T }, () => Math.floor(r() * V)), [B, T], 'int32');
  const targets = tf.oneHot(tf.reshape(tf.tensor2d(Array.from({ length: B * T }, () => Math.floor(r() * V)), [B, T], 'int32'), [B * T]), V);
  const positions = tf.range(0, T, 1, 'int32');
  const causal = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  // Core's fused LayerNorm (one kernel pair on wasm with @sparse-ift/backend; composed ops elsewhere).
  const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => fusedLayerNorm(x, g, b, 1e-5);
  // Core's fused GELU (tanh form, as F.gelu(approximate='tanh') in the PyTorch twin).
  const gelu = (x: tf.Tensor) => fusedGelu(x, 'tanh');
  const linear = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x, w), b);
  const dh = D / H;
  const loss = () => {
    let x: tf.Tensor = tf.add(tf.gather(wte, tokens), tf.gather(wpe, positions)); // [B, T, D]
    x = tf.reshape(x, [B * T, D]);
    for (const blk of blocks) {
      const qkv = linear(layerNorm(x, blk.ln1g, blk.ln1b), blk.wqkv, blk.bqkv); // [B*T, 3D]
      const heads = tf.transpose(tf.reshape(qkv, [B, T, 3, H, dh]), [2, 0, 3, 1, 4]); // [3, B, H, T, dh]
      const [q, k, v] = tf.unstack(heads, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), causal));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, D]);
      x = tf.add(x, linear(y, blk.wo, blk.bo));
      x = tf.add(x, linear(gelu(linear(layerNorm(x, blk.ln2g, blk.ln2b), blk.w1, blk.b1)), blk.w2, blk.b2));
    }
    const logits = tf.matMul(layerNorm(x, lnfg, lnfb), head);
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };
  const macs = L * (B * T * D * 3 * D + B * H * T * T * dh * 2 + B * T * D * D + B * T * D * 4 * D * 2) + B * T * D * V;
  return { name: `gpt L${L} d${D} ctx${T} heads${H} vocab${V} batch ${B}`, variables, loss, forwardMacs: macs };
}
