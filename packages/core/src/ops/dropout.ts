/**
 * Dropout whose mask is drawn where the tensor lives, by Philox 4x32-10 (./philox.ts), as one kernel.
 *
 * Why: `tf.dropout` draws its mask in JavaScript (tfjs-core's randomUniform, ~74 M values/s: minutes per
 * GPT-3 Small step on a GPU) and keeps the mask for the backward pass. Here element i is kept when word
 * (i mod 4) of Philox(counter = [⌊i/4⌋, c1, c2, c3], key = [k0, k1]) is ≥ round(rate·2^32), and kept
 * values are scaled by 1/(1 − rate) (in float32); nothing is saved for the gradient: dropout is linear,
 * so dx is the same kernel applied to dy with the same key and counter.
 *
 * Reproducible per (seed, step, tensor): inside {@link withDropoutContext} the key is (seed, a hash of
 * the stream name, e.g. the layer's name) and the counter (step, micro-batch, the stream's call index in
 * this context). Outside one, masks come from a per-process seed and a running call count (like an
 * unseeded `tf.dropout`).
 *
 * Kernels: `@sparse-ift/backend` registers a WGSL one for webgpu; the host kernel below (the JavaScript
 * reference on the backend's own memory) is registered for cpu here, and for any other backend the
 * first time the op runs there. A native backend registers its own under {@link DROPOUT} to replace it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { philox4x32 } from './philox.js';
import { readValues, registerHostKernel, writeFloat32 } from './host-kernel.js';

/** Kernel: inputs {x} (float32), attrs DropoutAttrs, output y of x's shape. */
export const DROPOUT = 'SparseIftDropout';

export interface DropoutAttrs {
  /** Probability of zeroing an element, in [0, 1). */
  rate: number;
  /** Philox key: [seed, stream]. */
  key: [number, number];
  /** Philox counter words 1–3 (word 0 numbers the element's block of four): [step, micro-batch, call]. */
  counter: [number, number, number];
}

/** Elements whose Philox word is below this are dropped: round(rate · 2^32). */
export function dropoutThreshold(rate: number): number {
  return Math.min(0xffffffff, Math.round(rate * 2 ** 32));
}

/** What kept elements are multiplied by: 1/(1 − rate) rounded to float32 (the kernels multiply in float32). */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
}

/**
 * The reference kernel on plain arrays (for backends that keep tensors in host memory, and for tests);
 * `out` lets a backend write straight into its own memory.
 */
export function dropoutReference(x: Float32Array, attrs: DropoutAttrs, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  const threshold = dropoutThreshold(attrs.rate);
  const scale = dropoutScale(attrs.rate);
  const counter = [0, ...attrs.counter];
  const words = new Uint32Array(4);
  for (let block = 0, i = 0; i < n; block++, i += 4) {
    counter[0] = block;
    philox4x32(counter, attrs.key, words);
    const end = Math.min(4, n - i);
    for (let j = 0; j < end; j++) out[i + j] = words[j]! >= threshold ? x[i + j]! * scale : 0;
  }
  return out;
}

/** The host kernel: the reference on the backend's own memory (cpu, wasm, tfjs-node, a native backend). */
export const dropoutHostKernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const out = dropoutReference(readValues(backend, x) as Float32Array, attrs as unknown as DropoutAttrs);
  return writeFloat32(backend, out, x.shape);
};

// ---------------------------------------------------------------------------------------------
// Where a mask comes from: the context.
// ---------------------------------------------------------------------------------------------

export interface DropoutContext {
  /** The run's seed (its low 32 bits are the key's first word). */
  seed: number;
  /** The optimiser step the forward pass is for. */
  step: number;
  /** Which micro-batch of the step (default 0). */
  microBatch?: number;
}

interface ActiveContext {
  context: DropoutContext;
  /** Calls per stream so far in this context: a layer applied twice gets two masks. */
  calls: Map<number, number>;
}

let active: ActiveContext | undefined;
const processSeed = Math.floor(Math.random() * 2 ** 32) >>> 0;
let callsOutsideContext = 0;

/** Runs `fn` with dropout masks drawn from (seed, step, micro-batch); contexts nest (the inner one wins). */
export function withDropoutContext<T>(context: DropoutContext, fn: () => T): T {
  for (const [name, value] of Object.entries({ seed: context.seed, step: context.step, microBatch: context.microBatch ?? 0 })) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`dropout context ${name} must be an integer >= 0, got ${value}`);
  }
  const outer = active;
  active = { context, calls: new Map() };
  try {
    return fn();
  } finally {
    active = outer;
  }
}

/** A stream's 32-bit id: FNV-1a of its name (a layer's name), or the number itself. */
export function dropoutStreamId(stream: string | number): number {
  if (typeof stream === 'number') {
    if (!Number.isInteger(stream)) throw new RangeError(`dropout stream must be a name or an integer, got ${stream}`);
    return stream >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The kernel attributes of the next mask of `stream` at `rate`. */
export function nextDropoutAttrs(rate: number, stream: string | number): DropoutAttrs {
  const id = dropoutStreamId(stream);
  if (!active) return { rate, key: [processSeed, id], counter: [callsOutsideContext++ >>> 0, 0xffffffff, 0xffffffff] };
  const call = active.calls.get(id) ?? 0;
  active.calls.set(id, call + 1);
  const { seed, step, microBatch = 0 } = active.context;
  return { rate, key: [seed >>> 0, id], counter: [step >>> 0, microBatch >>> 0, call] };
}

/**
 * Dropout of `x` (training only: call it when training) with a mask drawn on x's backend. `stream`
 * names the tensor, e.g. the layer's name: two streams never share a mask.
 */
export function dropout(x: Tensor, rate: number, stream: string | number): Tensor {
  checkRate(rate);
  if (rate === 0) return x;
  if (x.dtype !== 'float32') throw new Error(`dropout: x must be float32, got ${x.dtype}`);
  registerHostKernel(DROPOUT, dropoutHostKernel);
  return tf.engine().runKernel(DROPOUT, { x }, nextDropoutAttrs(rate, stream) as unknown as NamedAttrMap) as Tensor;
}

let gradientRegistered = false;

/** The gradient: the same mask applied to dy (the kernel again, same attributes). Done on import. */
export function registerDropoutGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: DROPOUT,
    gradFunc: (dy: Tensor | Tensor[], _saved: Tensor[], attrs: NamedAttrMap) => {
      const g = Array.isArray(dy) ? dy[0]! : dy;
      return { x: () => tf.engine().runKernel(DROPOUT, { x: g }, attrs) as Tensor };
    },
  });
}

registerDropoutGradient();
registerHostKernel(DROPOUT, dropoutHostKernel, 'cpu');
