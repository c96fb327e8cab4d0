/**
 * Runs the same SET/RigL updates on the host path and on the device path of core's updaters, on the
 * current backend, and expects identical masks, weights, momentum, reports and generator states. The
 * values are drawn from a few levels (many exact ties, zeros, negative zeros) so tie-breaking is tested.
 * Used by core's tests (cpu) and @sparse-ift/backend's (webgpu).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { MaskUpdateSchedule, RigLUpdater, Rng, SETUpdater, SGD, type MaskedParam, type MaskUpdater } from '../../src/index.js';

export function compareHostAndDevice(method: 'rigl' | 'set', options: { seed: number; shapes: number[][]; updates: number; sparsity?: number }): void {
  const draws = Rng.fromSeed(options.seed);
  const level = () => [0, -0, 0.25, -0.25, 0.5, -1, 1e-40, 2][draws.uniformInt(8)]!;
  const sparsity = options.sparsity ?? 0.7;
  const init = options.shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const on = Math.max(1, Math.round((1 - sparsity) * n));
    const order = draws.sampleIndices(n, on);
    const mask = new Float32Array(n);
    for (const i of order) mask[i] = 1;
    return { shape, mask, momentum: Float32Array.from({ length: n }, level) };
  });
  const perUpdate = Array.from({ length: options.updates }, () =>
    init.map(({ mask }) => ({ weight: Float32Array.from(mask, level), grad: Float32Array.from(mask, level) })),
  );

  const run = (placement: 'host' | 'device') => {
    const params: MaskedParam[] = init.map(({ shape, mask }, i) => ({
      name: `t${i}`, layerName: `l${i}`, role: 'wide-weight', sparsity,
      weight: tf.variable(tf.zeros(shape), true, `parity-${placement}-${method}-w${i}-${options.seed}`),
      mask: tf.variable(tf.tensor(mask, shape), false, `parity-${placement}-${method}-m${i}-${options.seed}`),
    }));
    const optimizer = new SGD(params.map((p) => p.weight), { learningRate: 0.1, momentum: 0.9 });
    params.forEach((p, i) => optimizer.slotsFor(p.weight)[0]!.assign(tf.tensor(init[i]!.momentum, init[i]!.shape)));
    const schedule = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 1, dropFraction: 0.4 });
    const updater: MaskUpdater = method === 'set'
      ? new SETUpdater({ schedule, rng: Rng.fromSeed(options.seed + 1), placement })
      : new RigLUpdater({ schedule, placement });
    const reports = [];
    for (const values of perUpdate) {
      params.forEach((p, i) => p.weight.assign(tf.tensor(values[i]!.weight, p.weight.shape)));
      const denseGrads = new Map(params.map((p, i) => [p.name, tf.tensor(values[i]!.grad, p.weight.shape)] as const));
      reports.push(updater.step(params, { denseGrads, optimizer }));
      for (const g of denseGrads.values()) g.dispose();
    }
    const out = {
      reports,
      masks: params.map((p) => Array.from(p.mask.dataSync())),
      weights: params.map((p) => Array.from(p.weight.dataSync())),
      momentum: params.map((p) => Array.from(optimizer.slotsFor(p.weight)[0]!.dataSync())),
      state: updater.state(),
    };
    optimizer.dispose();
    for (const p of params) {
      p.weight.dispose();
      p.mask.dispose();
    }
    return out;
  };
  const host = run('host');
  const device = run('device');
  // Updates really changed masks (the comparison is not between two untouched states).
  expect(host.reports.some((r) => r!.tensors.some((t) => t.nGrow > 0 && t.nPrune > 0))).toBe(true);
  expect(device.reports).toEqual(host.reports);
  expect(device.masks).toEqual(host.masks);
  expect(device.weights).toEqual(host.weights);
  expect(device.momentum).toEqual(host.momentum);
  expect(device.state).toEqual(host.state);
}
