/**
 * Small Sparse-IFT networks for Fashion-MNIST, written as plain functions over tf.Variables (no
 * tfjs-layers graph): an MLP 784 → H → H → 10 and a CNN (3×3 stem, two stride-2 3×3 convs, global
 * average pool, linear head). Every shape comes from core's iso-FLOP maths (`planLayer`,
 * `sparseWideWidth`, `solveSparseWideSparsity`); FLOPs come from core's `countFlops`.
 *
 * Which layers are transformed (spec §2.6, adapted): the two hidden layers of the MLP (including the
 * 784-input one, which holds most of an MLP's FLOPs; leaving it dense would make every family nearly
 * the dense model) and the two stride-2 convs of the CNN. The head (and the CNN's stem) stay dense.
 * Sparse Wide widens every hidden width by k_sw and, as the official code does (spec §3.11), then
 * solves for the mask sparsity that brings the masked wide model back to the dense model's FLOPs.
 *
 * Family forms (spec §2): SP sums k branches each with its own bias and ReLU (the ImageNet block form,
 * Σ_j σ(θ_jᵀz)); SF is V·ReLU(U·z) (`nonlinear_relu` without BN); SD is θ_s·z + V·(U·z) with U, V dense.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  countFlops,
  planLayer,
  solveSparseWideSparsity,
  sparseWideWidth,
  type Family,
  type FlopOp,
  type MaskedParam,
  type TensorRole,
  withDensity,
} from '@sparse-ift/core';
import type { NamedVariable, TrainableModel } from '@sparse-ift/train';
import { seededNormal, seededUniform } from './init.js';

export type Architecture = 'mlp' | 'cnn';

export interface ModelSpec {
  architecture: Architecture;
  /** Side of the (square, 1-channel) input images: 28, or 14 after 2×2 pooling. */
  inputSize: number;
  /** MLP hidden width H, or the CNN stem width C (convs: C → 2C → 2C). */
  width: number;
  family: Family;
  /** Nominal Sparse-IFT sparsity s (0 for dense). */
  sparsity: number;
  seed: number;
}

export interface SparseIftNet extends TrainableModel {
  spec: ModelSpec;
  /** Sparsity the masks are drawn at (differs from s only for Sparse Wide, spec §3.11). */
  maskSparsity: number;
  /** Forward ops per sample for core's FLOP counter, at the masks' current realised densities. */
  flopOps(): FlopOp[];
  /** Sample shape the model expects ([784] or [28, 28, 1]). */
  sampleShape: number[];
  describe(): string;
  dispose(): void;
}

const CLASSES = 10;

/** A dense layer to transform: linear (Din → Dout) or conv (k×k, stride). */
interface LayerSite {
  name: string;
  kind: 'linear' | 'conv';
  din: number;
  dout: number;
  kernel: number;
  stride: number;
  /** Output spatial size (1 for linear). */
  outSize: number;
}

interface Builder {
  params: NamedVariable[];
  masked: MaskedParam[];
  ops: { op: FlopOp; mask?: tf.Variable }[];
  seed: number;
  counter: number;
}

/** Kaiming-normal (fan_in, ReLU gain) weights: std = sqrt(2 / fan_in), PyTorch/official style. */
function weight(b: Builder, name: string, shape: number[]): tf.Variable {
  const fanIn = shape.slice(0, -1).reduce((a, c) => a * c, 1);
  const v = tf.variable(tf.tensor(seededNormal(shape.reduce((a, c) => a * c, 1), Math.sqrt(2 / fanIn), b.seed, b.counter++), shape));
  b.params.push({ name, variable: v });
  return v;
}

function bias(b: Builder, name: string, size: number): tf.Variable {
  const v = tf.variable(tf.zeros([size]));
  b.params.push({ name, variable: v });
  return v;
}

function mask(b: Builder, name: string, role: TensorRole, sparsity: number, w: tf.Variable): tf.Variable {
  const m = tf.variable(tf.ones(w.shape), false);
  b.masked.push({ name, layerName: name.split('/')[0]!, role, sparsity, weight: w, mask: m });
  return m;
}

function shapeOf(site: LayerSite, din: number, dout: number, kernel: number): number[] {
  return site.kind === 'linear' ? [din, dout] : [kernel, kernel, din, dout];
}

function apply(site: LayerSite, x: tf.Tensor, w: tf.Tensor, kernel: number, stride: number): tf.Tensor {
  if (site.kind === 'linear') return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
  void kernel;
  return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, 'same');
}

function flopOp(site: LayerSite, name: string, din: number, dout: number, kernel: number, masked: boolean, hasBias: boolean): FlopOp {
  return site.kind === 'linear'
    ? { kind: 'linear', name, inFeatures: din, outFeatures: dout, rows: 1, density: 1, masked, bias: hasBias }
    : {
        kind: 'conv2d',
        name,
        kernelSize: [kernel, kernel],
        inChannels: din,
        outChannels: dout,
        outHeight: site.outSize,
        outWidth: site.outSize,
        density: 1,
        masked,
        bias: hasBias,
      };
}

function reluOp(name: string, numel: number): FlopOp {
  return { kind: 'relu', name, numel, counted: true };
}

type Forward = (x: tf.Tensor) => tf.Tensor;

/** One transformed layer (followed by ReLU), per family. */
function transformedLayer(b: Builder, site: LayerSite, family: Family, s: number, maskSparsity: number): Forward {
  const n = site.name;
  const outNumel = site.dout * site.outSize * site.outSize;
  const k = site.kernel;
  const denseSpec =
    site.kind === 'linear'
      ? ({ kind: 'linear', inFeatures: site.din, outFeatures: site.dout } as const)
      : ({ kind: 'conv', kernelSize: [k, k] as [number, number], inChannels: site.din, outChannels: site.dout } as const);
  const track = (op: FlopOp, m?: tf.Variable): void => void b.ops.push({ op, mask: m });

  if (family === 'dense' || family === 'sparse-wide') {
    // Sparse Wide's widths are already in `site`; its mask sparsity is the solved one.
    const masked = family === 'sparse-wide';
    const w = weight(b, `${n}/kernel`, shapeOf(site, site.din, site.dout, k));
    const m = masked ? mask(b, `${n}/kernel`, 'wide-weight', maskSparsity, w) : undefined;
    const bb = bias(b, `${n}/bias`, site.dout);
    track(flopOp(site, `${n}/kernel`, site.din, site.dout, k, masked, true), m);
    track(reluOp(`${n}/relu`, outNumel));
    return (x) => tf.relu(tf.add(apply(site, x, w, k, site.stride), bb));
  }
  const plan = planLayer(denseSpec, family, s);
  if (family === 'sparse-parallel') {
    const branches = plan.branches!;
    const ws = Array.from({ length: branches }, (_, j) => weight(b, `${n}/branch${j}/kernel`, shapeOf(site, site.din, site.dout, k)));
    const ms = ws.map((w, j) => mask(b, `${n}/branch${j}/kernel`, 'parallel-branch', s, w));
    const bb = bias(b, `${n}/branches/bias`, branches * site.dout);
    ws.forEach((_, j) => {
      track(flopOp(site, `${n}/branch${j}/kernel`, site.din, site.dout, k, true, true), ms[j]);
      track(reluOp(`${n}/branch${j}/relu`, outNumel));
    });
    return (x) => {
      // All branches in one matmul/conv: concatenate along the output axis, then sum the ReLU'd parts.
      const y = tf.relu(tf.add(apply(site, x, tf.concat(ws, ws[0]!.rank - 1), k, site.stride), bb));
      const shape = y.shape.slice(0, -1);
      return tf.sum(tf.reshape(y, [...shape, branches, site.dout]), y.rank - 1);
    };
  }
  if (family === 'sparse-factorized') {
    const d = plan.innerWidth!;
    const u = weight(b, `${n}/u/kernel`, shapeOf(site, site.din, d, k));
    const mu = mask(b, `${n}/u/kernel`, 'factorized-u', s, u);
    const bu = bias(b, `${n}/u/bias`, d);
    const v = weight(b, `${n}/v/kernel`, shapeOf(site, d, site.dout, 1));
    const mv = mask(b, `${n}/v/kernel`, 'factorized-v', s, v);
    const bv = bias(b, `${n}/v/bias`, site.dout);
    track(flopOp(site, `${n}/u/kernel`, site.din, d, k, true, true), mu);
    track(reluOp(`${n}/u/relu`, d * site.outSize * site.outSize));
    track(flopOp(site, `${n}/v/kernel`, d, site.dout, 1, true, true), mv);
    track(reluOp(`${n}/relu`, outNumel));
    return (x) => tf.relu(tf.add(apply(site, tf.relu(tf.add(apply(site, x, u, k, site.stride), bu)), v, 1, 1), bv));
  }
  // sparse-doped: a sparse full-size weight plus a dense rank-r product, no nonlinearity inside.
  const r = plan.rank!;
  const w = weight(b, `${n}/sparse/kernel`, shapeOf(site, site.din, site.dout, k));
  const m = mask(b, `${n}/sparse/kernel`, 'doped-sparse', s, w);
  const bb = bias(b, `${n}/bias`, site.dout);
  track(flopOp(site, `${n}/sparse/kernel`, site.din, site.dout, k, true, true), m);
  if (r === 0) {
    track(reluOp(`${n}/relu`, outNumel));
    return (x) => tf.relu(tf.add(apply(site, x, w, k, site.stride), bb));
  }
  const u = weight(b, `${n}/u/kernel`, shapeOf(site, site.din, r, k));
  const v = weight(b, `${n}/v/kernel`, shapeOf(site, r, site.dout, 1));
  track(flopOp(site, `${n}/u/kernel`, site.din, r, k, false, false));
  track(flopOp(site, `${n}/v/kernel`, r, site.dout, 1, false, false));
  track(reluOp(`${n}/relu`, outNumel));
  return (x) => tf.relu(tf.add(tf.add(apply(site, x, w, k, site.stride), apply(site, apply(site, x, u, k, site.stride), v, 1, 1)), bb));
}

/** The hidden widths and transformed layer sites of an architecture at a given hidden width. */
function sites(architecture: Architecture, width: number, side: number): { sites: LayerSite[]; stem?: LayerSite; headIn: number } {
  if (architecture === 'mlp') {
    return {
      sites: [
        { name: 'fc1', kind: 'linear', din: side * side, dout: width, kernel: 1, stride: 1, outSize: 1 },
        { name: 'fc2', kind: 'linear', din: width, dout: width, kernel: 1, stride: 1, outSize: 1 },
      ],
      headIn: width,
    };
  }
  return {
    stem: { name: 'stem', kind: 'conv', din: 1, dout: width, kernel: 3, stride: 1, outSize: side },
    sites: [
      { name: 'conv1', kind: 'conv', din: width, dout: 2 * width, kernel: 3, stride: 2, outSize: Math.ceil(side / 2) },
      { name: 'conv2', kind: 'conv', din: 2 * width, dout: 2 * width, kernel: 3, stride: 2, outSize: Math.ceil(side / 4) },
    ],
    headIn: 2 * width,
  };
}

/** Builds the network; `maskSparsity` overrides Sparse Wide's solved sparsity (used internally). */
function build(spec: ModelSpec, maskSparsity: number): SparseIftNet {
  const { architecture, family, sparsity } = spec;
  const width = family === 'sparse-wide' ? sparseWideWidth(spec.width, sparsity) : spec.width;
  const layout = sites(architecture, width, spec.inputSize);
  const side = spec.inputSize;
  const b: Builder = { params: [], masked: [], ops: [], seed: spec.seed, counter: 0 };
  const stages: Forward[] = [];
  if (layout.stem) {
    const st = layout.stem;
    const w = weight(b, 'stem/kernel', shapeOf(st, st.din, st.dout, st.kernel));
    const bb = bias(b, 'stem/bias', st.dout);
    b.ops.push({ op: flopOp(st, 'stem/kernel', st.din, st.dout, st.kernel, false, true) }, { op: reluOp('stem/relu', st.dout * side * side) });
    stages.push((x) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), bb)));
  }
  for (const site of layout.sites) stages.push(transformedLayer(b, site, family, sparsity, maskSparsity));
  if (architecture === 'cnn') {
    const last = layout.sites.at(-1)!;
    b.ops.push({ op: { kind: 'global-avgpool', name: 'pool', inNumel: last.dout * last.outSize ** 2, outNumel: last.dout, counted: true } });
    stages.push((x) => tf.mean(x, [1, 2]));
  }
  // Head: PyTorch's default Linear init, U(±1/sqrt(fan_in)) for weight and bias.
  const bound = 1 / Math.sqrt(layout.headIn);
  const hw = tf.variable(tf.tensor(seededUniform(layout.headIn * CLASSES, bound, spec.seed, b.counter++), [layout.headIn, CLASSES]));
  const hb = tf.variable(tf.tensor(seededUniform(CLASSES, bound, spec.seed, b.counter++), [CLASSES]));
  b.params.push({ name: 'head/kernel', variable: hw }, { name: 'head/bias', variable: hb });
  b.ops.push({ op: { kind: 'linear', name: 'head/kernel', inFeatures: layout.headIn, outFeatures: CLASSES, rows: 1, density: 1, masked: false, bias: true } });

  const sampleShape = architecture === 'mlp' ? [side * side] : [side, side, 1];
  return {
    spec,
    maskSparsity,
    params: b.params,
    maskedParams: b.masked,
    sampleShape,
    logits(images: tf.Tensor): tf.Tensor2D {
      return tf.tidy(() => {
        let h = images;
        for (const stage of stages) h = stage(h);
        return tf.add(tf.matMul(h as tf.Tensor2D, hw), hb) as tf.Tensor2D;
      });
    },
    flopOps(): FlopOp[] {
      return b.ops.map(({ op, mask: m }) => {
        if (!m || (op.kind !== 'linear' && op.kind !== 'conv2d')) return op;
        const density = tf.tidy(() => tf.mean(m).dataSync()[0]!);
        return { ...op, density };
      });
    },
    describe(): string {
      const weights = b.params.reduce((a, p) => a + p.variable.size, 0);
      return `${architecture} ${family} s=${sparsity} (width ${width}, mask sparsity ${maskSparsity.toFixed(4)}, ${weights} parameters)`;
    },
    dispose(): void {
      for (const p of b.params) p.variable.dispose();
      for (const m of b.masked) m.mask.dispose();
    },
  };
}

/** The dense baseline's forward FLOPs per sample (official counter): the iso-FLOP budget. */
export function denseBudget(architecture: Architecture, width: number, inputSize: number): number {
  const dense = build({ architecture, inputSize, width, family: 'dense', sparsity: 0, seed: 0 }, 0);
  const flops = countFlops(dense.flopOps(), 'official').dense;
  dense.dispose();
  return flops;
}

export function buildNet(spec: ModelSpec): SparseIftNet {
  if (spec.family === 'dense') return build({ ...spec, sparsity: 0 }, 0);
  if (spec.family !== 'sparse-wide') return build(spec, spec.sparsity);
  // Sparse Wide (spec §3.11): widen, then solve for the sparsity that meets the dense FLOP budget.
  const probe = build(spec, spec.sparsity);
  const ops = probe.flopOps();
  probe.dispose();
  // The part that does not scale with mask density (dense layers, ReLUs, bias adds of masked layers)
  // is what the ops cost with every mask empty; the rest scales linearly with the density.
  const fixed = countFlops(withDensity(ops, () => 0), 'official').sparse;
  const maskSparsity = solveSparseWideSparsity({
    denseFlops: fixed,
    maskableFlops: countFlops(ops, 'official').dense - fixed,
    budget: denseBudget(spec.architecture, spec.width, spec.inputSize),
  });
  return build(spec, maskSparsity);
}
