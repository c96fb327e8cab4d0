import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, decayOnlyMatrices, SGD, type SparseOptimizer } from '../src/optimizers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const toDispose: { dispose(): void }[] = [];
afterEach(() => {
  for (const d of toDispose.splice(0)) d.dispose();
});

function variable(values: number[], name: string): tf.Variable {
  const v = tf.variable(tf.tensor1d(values), true, `${name}_${Math.random().toString(36).slice(2)}`);
  toDispose.push(v);
  return v;
}

/** Apply `grads` (one list per step) to a fresh w = [1, −2, 0.3]; returns w after the steps. */
function run(make: (vars: tf.Variable[]) => SparseOptimizer, grads: number[][]): { w: number[]; opt: SparseOptimizer; v: tf.Variable } {
  const v = variable([1, -2, 0.3], 'w');
  const opt = make([v]);
  toDispose.push(opt);
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.applyGradients({ [v.name]: gt });
    gt.dispose();
  }
  return { w: Array.from(v.dataSync()), opt, v };
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e)).toBeLessThan(tolerance));
}

// Reference values of three steps were produced with PyTorch 1.13 in float64:
//   w = torch.tensor([1., -2., 0.3]); opt = torch.optim.<Opt>([w], ...); for g in G: w.grad = g; opt.step()
const G = [
  [0.5, 0.25, -1.0],
  [0.1, -0.4, 0.2],
  [-0.3, 0.05, 0.7],
];

describe('SGD (PyTorch equations)', () => {
  it('one Nesterov step with coupled weight decay, by hand', () => {
    // g' = g + wd·w = [0.5 + 0.01, 0.25 − 0.02, −1 + 0.003] = [0.51, 0.23, −0.997]
    // buffer = g' (first step); Nesterov: g'' = g' + 0.9·buffer = 1.9·g' = [0.969, 0.437, −1.8943]
    // w − 0.1·g'' = [0.9031, −2.0437, 0.48943]
    const { w, opt, v } = run((vs) => new SGD(vs, { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), [G[0]]);
    expectClose(w, [0.9031, -2.0437, 0.48943]);
    expectClose(opt.slotsFor(v)[0].dataSync(), [0.51, 0.23, -0.997]);
  });

  it('three Nesterov steps match PyTorch', () => {
    const { w, opt, v } = run((vs) => new SGD(vs, { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), G);
    expectClose(w, [0.850465558191, -1.970891923757, 0.453332556242]);
    expectClose(opt.slotsFor(v)[0].dataSync(), [0.2196386411, -0.1619177697, 0.08214744083]);
  });

  it('three steps with dampening 0.5 (first step takes g undamped) match PyTorch', () => {
    const { w, opt, v } = run((vs) => new SGD(vs, { learningRate: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01 }), G);
    expectClose(w, [0.86593963725, -2.02389680575, 0.515567669925]);
    expectClose(opt.slotsFor(v)[0].dataSync(), [0.3168586275, 0.0120830575, -0.36337519925]);
  });

  it('plain SGD has no slots; the decay filter skips 1-D params and biases', () => {
    const { w, opt, v } = run((vs) => new SGD(vs, { learningRate: 0.5 }), [[1, 2, 3]]);
    expectClose(w, [0.5, -3, -1.2]);
    expect(opt.slotsFor(v)).toEqual([]);
    const bias = variable([1, 1], 'dense/bias');
    const kernel = tf.variable(tf.ones([2, 2]), true, `dense/kernel_${Math.random()}`);
    toDispose.push(kernel);
    expect(decayOnlyMatrices(bias)).toBe(false);
    expect(decayOnlyMatrices(kernel)).toBe(true);
    const sgd = new SGD([bias, kernel], { learningRate: 1, weightDecay: 0.1, decayFilter: decayOnlyMatrices });
    toDispose.push(sgd);
    sgd.applyGradients({ [bias.name]: tf.zeros([2]), [kernel.name]: tf.zeros([2, 2]) });
    expectClose(bias.dataSync(), [1, 1]);
    expectClose(kernel.dataSync(), [0.9, 0.9, 0.9, 0.9]);
  });
});

describe('AdamW (PyTorch equations)', () => {
  it('one step by hand', () => {
    // lr 0.01, wd 0.1: w ← w·(1 − 0.001) = [0.999, −1.998, 0.2997]
    // m = 0.1·g, v = 0.001·g²; m̂ = g, sqrt(v̂) = |g| → step = lr·g/(|g| + 1e−8) ≈ ±0.01
    // w = [0.989, −2.008, 0.3097]
    const { w, opt, v } = run((vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.1 }), [G[0]]);
    expectClose(w, [0.989, -2.008, 0.3097]);
    const [m, s] = opt.slotsFor(v);
    expectClose(m.dataSync(), [0.05, 0.025, -0.1]);
    expectClose(s.dataSync(), [0.00025, 0.0000625, 0.001], 1e-9);
  });

  it('three steps match PyTorch', () => {
    const { w, opt, v } = run((vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.1 }), G);
    expectClose(w, [0.976893480586, -1.999778978757, 0.313824303783]);
    const [m, s] = opt.slotsFor(v);
    expectClose(m.dataSync(), [0.0195, -0.01075, 0.007]);
    expectClose(s.dataSync(), [0.00034949025, 0.0002247150625, 0.001527961], 1e-9);
  });

  it('amsgrad uses the running max of v (differs from plain Adam when v shrinks), matches PyTorch', () => {
    const shrinking = [
      [2, -3, 1],
      [0.01, 0.02, -0.01],
      [0.01, 0.02, -0.01],
    ];
    const plain = run((vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.1 }), shrinking);
    const ams = run((vs) => new AdamW(vs, { learningRate: 0.01, weightDecay: 0.1, amsgrad: true }), shrinking);
    expectClose(plain.w, [0.975051816607, -1.97228349283, 0.277444148616]);
    expectClose(ams.w, [0.975060207881, -1.97229153966, 0.277451679498]);
    expect(ams.opt.slotsFor(ams.v).length).toBe(3);
  });

  it('getState / setState resume the exact trajectory; learning rate is settable', () => {
    const straight = run((vs) => new AdamW(vs, { learningRate: 0.01 }), G);
    const first = run((vs) => new AdamW(vs, { learningRate: 0.01 }), G.slice(0, 2));
    const saved = first.opt.getState();
    const v = variable(first.w, 'w');
    const resumed = new AdamW([v], { learningRate: 123 });
    toDispose.push(resumed);
    // state is keyed by variable name: map the saved entry onto the new variable
    const rename = <T,>(r: Record<string, T>) => ({ [v.name]: Object.values(r)[0] });
    resumed.setState({ ...saved, steps: rename(saved.steps), slots: rename(saved.slots) });
    expect(resumed.learningRate).toBe(0.01);
    resumed.applyGradients({ [v.name]: tf.tensor1d(G[2]) });
    expectClose(v.dataSync(), straight.w, 1e-7);
    expect(() => new SGD([v], { learningRate: 1, momentum: 0.9 }).setState(saved)).toThrow(/adamw.*sgd/);
    expect(() => {
      resumed.learningRate = -1;
    }).toThrow(/learning rate/);
  });

  it('rejects gradients for variables it does not own', () => {
    const v = variable([1], 'a');
    const opt = new SGD([v], { learningRate: 1 });
    toDispose.push(opt);
    expect(() => opt.applyGradients({ stranger: tf.zeros([1]) })).toThrow(/'stranger'/);
  });
});
