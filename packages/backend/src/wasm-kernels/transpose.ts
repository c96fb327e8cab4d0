// Transpose and Unpack for wasm when the last axis stays last: every output row of the last axis is one
// block copy. tfjs-backend-wasm 4.22 moves such tensors element by element above rank 4 (a GPT step's
// [B, T, 3, H, dh] → [3, B, H, T, dh] head split and its gradient took ~30 % of the step), and unstacks
// through a rank-5 Slice that is slower still. Other permutations go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, hasTypedView, typedView } from './heap.js';
import { original } from './call.js';

type HeapView = Float32Array | Int32Array | Uint8Array;

/**
 * dst[outIndex] = src[...] for a permutation that keeps the last axis: walks the output rows in order
 * with an odometer over the output's leading axes, copying `inner` elements per row.
 */
function permuteRows(src: HeapView, dst: HeapView, shape: number[], perm: number[]): void {
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const srcStrides = tf.util.computeStrides(shape).concat([1]);
  const outShape = perm.map((p) => shape[p]!);
  const lead = rank - 1;
  // Source stride of each output leading axis.
  const stride = perm.slice(0, lead).map((p) => srcStrides[p]!);
  const rows = tf.util.sizeFromShape(outShape.slice(0, lead));
  const counter = new Array<number>(lead).fill(0);
  let srcRow = 0;
  for (let row = 0; row < rows; row++) {
    const at = row * inner;
    if (inner === 1) dst[at] = src[srcRow]!;
    else dst.set(src.subarray(srcRow, srcRow + inner) as never, at);
    for (let d = lead - 1; d >= 0; d--) {
      srcRow += stride[d]!;
      if (++counter[d]! < outShape[d]!) break;
      srcRow -= stride[d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
}

const transpose: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as { perm: number[] };
  const rank = x.shape.length;
  if (rank < 2 || perm[rank - 1] !== rank - 1 || x.shape[rank - 1]! < 4 || !hasTypedView(x.dtype) || tf.util.sizeFromShape(x.shape) === 0) {
    return original(tf.Transpose).kernelFunc(args);
  }
  const out = backend.makeOutput(perm.map((p) => x.shape[p]!), x.dtype);
  permuteRows(typedView(backend, x)!, typedView(backend, out)!, x.shape, perm);
  return out;
};

const unpack: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { value } = args.inputs as { value: TensorInfo };
  let { axis } = args.attrs as unknown as { axis: number };
  const shape = value.shape;
  if (axis < 0) axis += shape.length;
  const n = shape[axis]!;
  const outer = tf.util.sizeFromShape(shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(shape.slice(axis + 1));
  const outShape = shape.filter((_, i) => i !== axis);
  if (!hasTypedView(value.dtype)) return original(tf.Unpack).kernelFunc(args);
  const outs = Array.from({ length: n }, () => backend.makeOutput(outShape, value.dtype));
  // Views after every allocation (a heap growth detaches earlier ones).
  const src = typedView(backend, value)!;
  outs.forEach((o, i) => {
    const dst = typedView(backend, o)!;
    for (let r = 0; r < outer; r++) {
      const from = (r * n + i) * inner;
      dst.set(src.subarray(from, from + inner) as never, r * inner);
    }
  });
  return outs;
};

export const transposeConfig: KernelConfig = { kernelName: tf.Transpose, backendName: 'wasm', kernelFunc: transpose };
export const unpackConfig: KernelConfig = { kernelName: tf.Unpack, backendName: 'wasm', kernelFunc: unpack };
