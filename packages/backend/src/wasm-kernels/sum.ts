// Sum for wasm over leading or trailing axes of a float32 tensor: column sums (bias gradients: Σ over
// batch rows) and row sums, in one pass with float64 accumulators. tfjs-backend-wasm 4.22 first
// transposes the reduced axes innermost, a full copy of the tensor per call (a GPT step: ~20 %).
// Other axis sets and dtypes go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, f32, typedView } from './heap.js';
import { original } from './call.js';

const sum: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  const leading = contiguous && axes[0] === 0 && axes.length < rank;
  const trailing = contiguous && axes.length > 0 && axes[axes.length - 1] === rank - 1 && axes.length < rank;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  if (tf.util.sizeFromShape(x.shape) === 0 && (x.dtype === 'float32' || x.dtype === 'int32')) {
    // The sum over nothing is 0; the stock kernel leaves its output uninitialised for an empty input.
    const empty = backend.makeOutput(outShape, x.dtype);
    typedView(backend, empty)!.fill(0);
    return empty;
  }
  if (x.dtype !== 'float32' || !(leading || trailing)) {
    return original(tf.Sum).kernelFunc(args);
  }
  const out = backend.makeOutput(outShape, 'float32');
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const reduced = tf.util.sizeFromShape(axes.map((a) => x.shape[a]!));
  const keptSize = tf.util.sizeFromShape(kept);
  if (leading) {
    // x as [reduced, keptSize]: column sums.
    const acc = new Float64Array(keptSize);
    for (let r = 0; r < reduced; r++) {
      const base = r * keptSize;
      for (let j = 0; j < keptSize; j++) acc[j]! += src[base + j]!;
    }
    dst.set(acc);
  } else {
    // x as [keptSize, reduced]: row sums.
    for (let r = 0; r < keptSize; r++) {
      const base = r * reduced;
      let s = 0;
      for (let j = 0; j < reduced; j++) s += src[base + j]!;
      dst[r] = s;
    }
  }
  return out;
};

export const sumConfig: KernelConfig = { kernelName: tf.Sum, backendName: 'wasm', kernelFunc: sum };
