// Core's SGD and AdamW on the native backend's fused update kernels (SparseIftSgdUpdate,
// SparseIftAdamWUpdate: one pass per variable) against (1) PyTorch's update equations computed here in
// float64, and (2) the same optimizer on the cpu backend, which runs core's composed tf.js ops: the fused
// kernel computes the same float32 operations in the same order, so weights and slots must be the same
// bits. Three steps each (the first SGD step takes the buffer from the gradient), with a gate that is
// absent, true, or false (then nothing may change), on a small tensor and one past the size where the
// kernel goes multi-threaded; the addon's x86-64, AVX2 and AVX-512 copies give the same bits. Skipped when
// the addon is not built.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, nativeAddonPath, nativeBackendRegistration } from '@sparse-ift/backend';
import { ADAMW_UPDATE, AdamW, SGD, SGD_UPDATE, type SparseOptimizer } from '@sparse-ift/core';
import { NATIVE_BACKEND_BUILT, randn, rng, useBackend } from './helpers.js';

interface Sgd64 { kind: 'sgd'; lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number }
interface AdamW64 { kind: 'adamw'; lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; amsgrad: boolean }
type Config = Sgd64 | AdamW64;

const CONFIGS: { name: string; config: Config }[] = [
  { name: 'SGD, no momentum', config: { kind: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 } },
  { name: 'SGD, no momentum, weight decay', config: { kind: 'sgd', lr: 0.05, momentum: 0, dampening: 0, nesterov: false, weightDecay: 5e-4 } },
  { name: 'SGD momentum 0.9', config: { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 } },
  { name: 'SGD momentum, dampening 0.3, weight decay', config: { kind: 'sgd', lr: 0.02, momentum: 0.8, dampening: 0.3, nesterov: false, weightDecay: 1e-3 } },
  { name: 'SGD Nesterov, weight decay', config: { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4 } },
  { name: 'AdamW', config: { kind: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, amsgrad: false } },
  { name: 'AdamW, no decay, other betas', config: { kind: 'adamw', lr: 3e-3, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0, amsgrad: false } },
  { name: 'AdamW amsgrad', config: { kind: 'adamw', lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, amsgrad: true } },
];

const STEPS = 3;
type Gate = 'none' | 'true' | 'false';

interface Trajectory {
  w: Float32Array;
  slots: Float32Array[];
}

/** Initial weight and per-step gradients (shrinking, so amsgrad's maximum differs from v). */
function data(n: number): { w0: Float32Array; grads: Float32Array[] } {
  const r = rng(n * 7 + 1);
  return { w0: randn(r, n), grads: Array.from({ length: STEPS }, (_, t) => randn(r, n).map((g) => g / (t + 1))) };
}

function make(config: Config, v: tf.Variable): SparseOptimizer {
  return config.kind === 'sgd'
    ? new SGD([v], { learningRate: config.lr, momentum: config.momentum, dampening: config.dampening, nesterov: config.nesterov, weightDecay: config.weightDecay })
    : new AdamW([v], { learningRate: config.lr, beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon, weightDecay: config.weightDecay, amsgrad: config.amsgrad });
}

/** Core's optimizer on the current backend. */
function runOptimizer(config: Config, n: number, gate: Gate): Trajectory {
  const { w0, grads } = data(n);
  const v = tf.variable(tf.tensor1d(w0));
  const opt = make(config, v);
  const onlyIf = gate === 'none' ? undefined : tf.scalar(gate === 'true', 'bool');
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.applyGradients({ [v.name]: gt }, { onlyIf });
    gt.dispose();
  }
  const out = { w: v.dataSync().slice() as Float32Array, slots: opt.slotsFor(v).map((s) => s.dataSync().slice() as Float32Array) };
  onlyIf?.dispose();
  opt.dispose();
  v.dispose();
  return out;
}

/** torch.optim.SGD / AdamW step(), in float64. */
function reference(config: Config, n: number): { w: Float64Array; slots: Float64Array[] } {
  const { w0, grads } = data(n);
  const w = Float64Array.from(w0);
  if (config.kind === 'sgd') {
    const b = new Float64Array(n);
    grads.forEach((grad, t) => {
      for (let i = 0; i < n; i++) {
        let g = grad[i]! + config.weightDecay * w[i]!;
        if (config.momentum !== 0) {
          b[i] = t === 0 ? g : config.momentum * b[i]! + (1 - config.dampening) * g;
          g = config.nesterov ? g + config.momentum * b[i]! : b[i]!;
        }
        w[i] = w[i]! - config.lr * g;
      }
    });
    return { w, slots: config.momentum !== 0 ? [b] : [] };
  }
  const [m, s, sMax] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  grads.forEach((grad, t) => {
    const step = t + 1;
    for (let i = 0; i < n; i++) {
      const g = grad[i]!;
      w[i] = w[i]! * (1 - config.lr * config.weightDecay);
      m[i] = config.beta1 * m[i]! + (1 - config.beta1) * g;
      s[i] = config.beta2 * s[i]! + (1 - config.beta2) * g * g;
      sMax[i] = Math.max(sMax[i]!, s[i]!);
      const second = config.amsgrad ? sMax[i]! : s[i]!;
      const denom = Math.sqrt(second) / Math.sqrt(1 - config.beta2 ** step) + config.epsilon;
      w[i] = w[i]! - (config.lr / (1 - config.beta1 ** step)) * (m[i]! / denom);
    }
  });
  return { w, slots: config.amsgrad ? [m, s, sMax] : [m, s] };
}

function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let differing = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      differing++;
      if (first < 0) first = i;
    }
  }
  expect(differing, `${what}: ${differing} values differ, first at ${first}: ${actual[first]} vs ${expected[first]}`).toBe(0);
}

function expectClose64(actual: Float32Array, expected: Float64Array, what: string): void {
  // Normwise: a few float32 roundings of the largest terms (elementwise, cancellation near 0 would dominate).
  let error = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  expect(error / scale, `${what}: max |float32 − float64| / max |float64|`).toBeLessThan(1e-6);
}

describe.skipIf(!NATIVE_BACKEND_BUILT)('fused optimizer updates on the native backend', () => {
  for (const { name, config } of CONFIGS) {
    for (const n of [37, 70001]) {
      it(`${name}, ${n} values: PyTorch's equations (float64), and the cpu backend's composed ops bit for bit`, async () => {
        const expected = reference(config, n);
        for (const gate of ['none', 'true', 'false'] as const) {
          await useBackend('cpu');
          const composed = runOptimizer(config, n, gate);
          await useBackend('native');
          const provenance = nativeBackendRegistration()!.provenance;
          provenance.reset();
          const fused = runOptimizer(config, n, gate);
          const ran = provenance.snapshot();
          const kernel = config.kind === 'sgd' ? SGD_UPDATE : ADAMW_UPDATE;
          expect(ran.native[kernel], `${name}: the fused kernel ran once per step`).toBe(STEPS);
          expect(ran.native['Select'], `${name}: no tf.where`).toBeUndefined();
          const what = `${name}, gate ${gate}`;
          expectBits(fused.w, composed.w, `${what}: weight`);
          expect(fused.slots.length).toBe(expected.slots.length);
          fused.slots.forEach((slot, k) => expectBits(slot, composed.slots[k]!, `${what}: slot ${k}`));
          if (gate === 'false') {
            expectBits(fused.w, data(n).w0, `${what}: the weight is untouched`);
            for (const slot of fused.slots) expect(slot.every((x) => x === 0), `${what}: slots stay 0`).toBe(true);
          } else {
            expectClose64(fused.w, expected.w, `${what}: weight`);
            fused.slots.forEach((slot, k) => expectClose64(slot, expected.slots[k]!, `${what}: slot ${k}`));
          }
        }
      });
    }
  }

  it("the addon's x86-64 and AVX2 copies give the bits of the one this CPU runs; bad arguments are named", () => {
    // A child process per forced ISA (SIFT_ISA is read once, when the addon loads).
    const script = `
      const t = require(${JSON.stringify(nativeAddonPath())}).tensors;
      const n = 40003, w = new Float32Array(n), g = new Float32Array(n), a = new Float32Array(n), b = new Float32Array(n);
      for (let i = 0; i < n; i++) { w[i] = Math.sin(i * 0.37); g[i] = Math.cos(i * 0.11) / 3; a[i] = g[i] * 0.7; b[i] = g[i] * g[i] * (1 + (i % 5)); }
      const out = Array.from({ length: 6 }, () => new Float32Array(n));
      t.sgdUpdate(w, g, a, out[0], out[1], 0.1, 0.9, 0.1, true, 5e-4, false);
      t.adamWUpdate(w, g, a, b, b, out[2], out[3], out[4], out[5], 1 - 1e-5, 0.9, 0.999, 1e-8, 0.003, 0.05);
      const all = new Float32Array(6 * n); out.forEach((o, k) => all.set(o, k * n));
      process.stdout.write(JSON.stringify({ isa: t.isa(), out: Buffer.from(all.buffer).toString('base64') }));`;
    const run = (isa?: string) => {
      const env = { ...process.env, ...(isa ? { SIFT_ISA: isa } : {}) };
      const { isa: ran, out } = JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', maxBuffer: 1 << 26 })) as { isa: string; out: string };
      const bytes = Buffer.from(out, 'base64');
      return { isa: ran, out: new Float32Array(Uint8Array.from(bytes).buffer) };
    };
    const best = run();
    for (const isa of ['base', 'avx2']) {
      const forced = run(isa);
      expectBits(forced.out, best.out, `${forced.isa} vs ${best.isa}`);
    }
    const addon = loadNativeAddon();
    if (!addon.loaded) throw new Error('addon');
    const k = addon.addon.tensors;
    const f = new Float32Array(4);
    expect(() => k.sgdUpdate(f, new Float32Array(3), null, f, null, 0.1, 0, 0, false, 0, true)).toThrow(/sparse-ift native sgdUpdate: g holds 3 elements; the shapes given need 4/);
    expect(() => k.sgdUpdate(f, f, f, f, null, 0.1, 0.9, 0, false, 0, true)).toThrow(/sgdUpdate: momentum and its output go together/);
    expect(() => k.adamWUpdate(f, f, f, new Int32Array(4) as unknown as Float32Array, null, f, f, f, null, 1, 0.9, 0.999, 1e-8, 1e-3, 1)).toThrow(/adamWUpdate: expAvgSq must be a Float32Array/);
  });
});
