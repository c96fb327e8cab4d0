// CHWN activations on the native backend: sparse convolutions write CHWN, batch norm (training, fused
// residual + ReLU; inference), elementwise ops and the sparse convolutions' gradients keep it, and every
// other reader (pooling, reshape, reductions, dataSync, an NHWC operand) sees the NHWC order. Each graph
// runs forward and backward on the native backend (masked products forced sparse) and is checked against
// the same graph on tfjs-backend-cpu (its composed ops, checked against float64 in core's tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, maskedConv2d } from '@sparse-ift/core';
import { setSparseMode, sparseMode, type NativeBackend, type SparseMode } from '@sparse-ift/backend';
import { NATIVE_BACKEND_BUILT, expectClose, forwardAndGrads, randn, rng, useBackend, type Input } from './helpers.js';

/** float32 sums in other orders (blocked, per channel plane) vs the JS loops: rounding only. */
const RTOL = 1e-4;

const N = 3, H = 6, W = 5, C = 4, O = 6;

type Graph = (...t: tf.Tensor[]) => tf.Tensor;

function mask(r: () => number, n: number, density: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r() < density ? 1 : 0));
}

/** x [N, H, W, C], then per conv its weight and mask (3×3), then per batch norm γ and β. */
function inputs(seed: number, convs: [number, number][], norms: number[]): Input[] {
  const r = rng(seed);
  const out: Input[] = [{ shape: [N, H, W, C], values: randn(r, N * H * W * C) }];
  for (const [cin, cout] of convs) {
    out.push({ shape: [3, 3, cin, cout], values: randn(r, 9 * cin * cout) });
    out.push({ shape: [3, 3, cin, cout], values: mask(r, 9 * cin * cout, 0.4), differentiable: false });
  }
  for (const ch of norms) {
    out.push({ shape: [ch], values: Float32Array.from(randn(r, ch), (v) => 1 + 0.3 * v) });
    out.push({ shape: [ch], values: randn(r, ch) });
  }
  return out;
}

const conv = (x: tf.Tensor, w: tf.Tensor, m: tf.Tensor) => maskedConv2d(x as tf.Tensor4D, w as tf.Tensor4D, m as tf.Tensor4D, 1, 'same');

interface Case {
  name: string;
  graph: Graph;
  ins: Input[];
}

const CASES: Case[] = [
  {
    name: 'conv → BN + ReLU → conv',
    graph: (x, w1, m1, w2, m2, g, b) => conv(batchNormTrain(conv(x!, w1!, m1!), g!, b!, { relu: true }).y, w2!, m2!),
    ins: inputs(1, [[C, O], [O, C]], [O]),
  },
  {
    name: 'conv → BN → ReLU → conv (separate ReLU, BN without it)',
    graph: (x, w1, m1, w2, m2, g, b) => conv(tf.relu(batchNormTrain(conv(x!, w1!, m1!), g!, b!).y), w2!, m2!),
    ins: inputs(2, [[C, O], [O, C]], [O]),
  },
  {
    name: 'BN + residual (NHWC input beside a CHWN conv output) + ReLU → conv',
    graph: (x, w1, m1, w2, m2, g, b) => conv(batchNormTrain(conv(x!, w1!, m1!), g!, b!, { relu: true, residual: x! }).y, w2!, m2!),
    ins: inputs(3, [[C, C], [C, O]], [C]),
  },
  {
    name: 'BN + residual (CHWN, another conv) + ReLU → conv',
    graph: (x, w1, m1, w2, m2, w3, m3, g, b) => {
      const h = conv(x!, w1!, m1!);
      return conv(batchNormTrain(conv(h, w2!, m2!), g!, b!, { relu: true, residual: h }).y, w3!, m3!);
    },
    ins: inputs(4, [[C, O], [O, O], [O, C]], [O]),
  },
  {
    name: 'add of a CHWN and an NHWC operand, scalar products, ReLU → conv',
    graph: (x, w1, m1, w2, m2) => conv(tf.relu(tf.add(tf.mul(conv(x!, w1!, m1!), 0.5), x!)), w2!, m2!),
    ins: inputs(5, [[C, C], [C, O]], []),
  },
  {
    name: 'add of two CHWN operands (Sparse Parallel: branches on one input, BN each, summed) → conv',
    graph: (x, w1, m1, w2, m2, w3, m3, g1, b1, g2, b2) => {
      const a = batchNormTrain(conv(x!, w1!, m1!), g1!, b1!).y;
      const b = batchNormTrain(conv(x!, w2!, m2!), g2!, b2!).y;
      return conv(tf.relu(tf.add(a, b)), w3!, m3!);
    },
    ins: inputs(6, [[C, O], [C, O], [O, C]], [O, O]),
  },
  {
    name: 'Sparse Parallel on a CHWN input (three branches share its staging), BN each, summed → conv',
    graph: (x, w1, m1, w2, m2, w3, m3, w4, m4, g1, b1, g2, b2, g3, b3) => {
      const h = tf.relu(conv(x!, w1!, m1!));
      const branches = [[w2, m2, g1, b1], [w3, m3, g2, b2], [w4, m4, g3, b3]].map(([w, m, g, b]) => batchNormTrain(conv(h, w!, m!), g!, b!).y);
      return conv(tf.relu(tf.addN(branches)), w1!, m1!);
    },
    ins: inputs(10, [[C, C], [C, C], [C, C], [C, C]], [C, C, C]),
  },
  {
    name: 'max pool, average pool, reshape and mean after CHWN tensors',
    graph: (x, w1, m1, w2, m2) => {
      // Max pool straight after the conv (ReLU's zeros would tie, and ties may take either gradient);
      // average pool 'valid' (tfjs-backend-cpu's gradient of a 'same' one divides padded windows by the
      // full window size, unlike its forward).
      const h = conv(x!, w1!, m1!);
      const p = tf.add(tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid'), tf.avgPool(tf.relu(h) as tf.Tensor4D, 2, 2, 'valid'));
      const flat = tf.reshape(conv(h, w2!, m2!), [N, -1]);
      return tf.concat([tf.reshape(p, [N, -1]), flat, tf.mean(h, [1, 2])], 1);
    },
    ins: inputs(7, [[C, O], [O, C]], []),
  },
  {
    name: 'strided 3×3 and 1×1 sparse convs reading CHWN (phase-split and in-place staging)',
    graph: (x, w1, m1, w2, m2, w3, m3) => {
      const h = tf.relu(conv(x!, w1!, m1!));
      const s = maskedConv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, m2 as tf.Tensor4D, 2, 'same');
      return maskedConv2d(tf.relu(s) as tf.Tensor4D, w3 as tf.Tensor4D, m3 as tf.Tensor4D, 1, 'valid');
    },
    ins: (() => {
      const r = rng(9);
      const ins = inputs(9, [[C, O], [O, O]], []);
      ins.push({ shape: [1, 1, O, C], values: randn(r, O * C) }, { shape: [1, 1, O, C], values: mask(r, O * C, 0.5), differentiable: false });
      return ins;
    })(),
  },
  {
    name: 'inference batch norm (running statistics) and ReLU between convs',
    graph: (x, w1, m1, w2, m2, g, b) => {
      const h = conv(x!, w1!, m1!);
      const mean = tf.mul(b!, 0.1);
      const variance = tf.add(tf.square(g!), 0.5);
      return conv(tf.relu(tf.batchNorm(h, mean, variance, b!, g!, 1e-3)), w2!, m2!);
    },
    ins: inputs(8, [[C, O], [O, C]], [O]),
  },
];

function outputWeights(graph: Graph, ins: Input[]): Float32Array {
  const shape = tf.tidy(() => graph(...ins.map((i) => tf.tensor(i.values, i.shape))).shape);
  return randn(rng(99), shape.reduce((a, b) => a * b, 1));
}

describe.skipIf(!NATIVE_BACKEND_BUILT)('CHWN activations between sparse convolutions', () => {
  let saved: SparseMode;
  beforeAll(async () => {
    saved = sparseMode();
    setSparseMode('sparse');
  });
  afterAll(() => setSparseMode(saved));

  for (const c of CASES) {
    it(`${c.name}: values and gradients equal tfjs-backend-cpu's`, async () => {
      await useBackend('cpu');
      const g = outputWeights(c.graph, c.ins);
      const cpu = forwardAndGrads(c.graph, c.ins, g);
      await useBackend('native');
      const before = tf.memory().numTensors;
      const got = forwardAndGrads(c.graph, c.ins, g);
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
      expectClose(got.y, cpu.y, RTOL, `${c.name}: y`);
      got.grads.forEach((d, i) => expectClose(d, cpu.grads[i]!, RTOL, `${c.name}: gradient ${i}`));
    });
  }

  it('conv → BN + ReLU → conv keeps CHWN forward and backward: nothing is transposed to NHWC', async () => {
    await useBackend('native');
    const backend = tf.backend() as NativeBackend;
    const c = CASES[0]!;
    const ts = c.ins.map((i) => tf.tensor(i.values, i.shape));
    const [x, w1, m1, w2, m2, g, b] = ts;
    const before = backend.layoutMaterialisations;
    const { value, grads } = tf.tidy(() => {
      const h = conv(x!, w1!, m1!);
      const a = batchNormTrain(h, g!, b!, { relu: true }).y;
      expect(backend.chwnValues(h), 'the sparse conv writes CHWN').toBeDefined();
      expect(backend.chwnValues(a), 'batch norm + ReLU keeps CHWN').toBeDefined();
      const f = (xx: tf.Tensor, ww1: tf.Tensor, ww2: tf.Tensor) => conv(batchNormTrain(conv(xx, ww1, m1!), g!, b!, { relu: true }).y, ww2, m2!);
      const dy = tf.onesLike(f(x!, w1!, w2!));
      return { value: f(x!, w1!, w2!), grads: tf.grads(f)([x!, w1!, w2!], dy) };
    });
    expect(backend.layoutMaterialisations - before, 'transposes to NHWC before any read').toBe(0);
    expect(backend.chwnValues(value)).toBeDefined();
    expect(backend.chwnValues(grads[0]), 'dx of an NHWC input is NHWC').toBeUndefined();
    value.dataSync();
    expect(backend.layoutMaterialisations - before, 'dataSync materialises once').toBe(1);
    value.dataSync();
    expect(backend.layoutMaterialisations - before, 'and only once').toBe(1);
    tf.dispose([value, ...grads, ...ts]);
  });

  it('a reshaped view of CHWN data reads NHWC; disposing CHWN tensors frees them', async () => {
    await useBackend('native');
    const backend = tf.backend() as NativeBackend;
    const c = CASES[0]!;
    const ts = c.ins.map((i) => tf.tensor(i.values, i.shape));
    const h = conv(ts[0]!, ts[1]!, ts[2]!);
    const flat = tf.reshape(h, [N * H, W * O]);
    expect(backend.chwnValues(h)).toBeDefined();
    expect(backend.chwnValues(flat), 'another shape is not the layout').toBeUndefined();
    await useBackend('cpu');
    const ref = tf.tidy(() => {
      const t = c.ins.map((i) => tf.tensor(i.values, i.shape));
      return tf.reshape(conv(t[0]!, t[1]!, t[2]!), [N * H, W * O]).dataSync();
    });
    await useBackend('native');
    expectClose(flat.dataSync(), ref, RTOL, 'reshaped CHWN tensor');
    const before = tf.memory().numTensors;
    tf.dispose([h, flat, ...ts]);
    expect(tf.memory().numTensors).toBe(before - 2 - ts.length);
  });
});
