// Tile for wasm. tfjs-backend-wasm 4.22's Tile is a per-element loop; the gradient of every mean (batch
// norm's moments, global average pooling) tiles dy back to the input's shape, and in a ResNet-18 step
// it took ~30 % of the time. Here each output row is a block copy (or a fill) from the source row.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, typedView } from './heap.js';

const tile: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { x } = inputs as { x: TensorInfo };
  const { reps } = attrs as unknown as { reps: number[] };
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const out = wasm.makeOutput(outShape, x.dtype);
  const size = tf.util.sizeFromShape(outShape);
  if (size === 0) return out;
  const src = typedView(wasm, x);
  const dst = typedView(wasm, out);
  if (!src || !dst) throw new Error(`Tile on wasm: unsupported dtype ${x.dtype}`);
  if (rank === 0) {
    dst[0] = src[0]!;
    return out;
  }
  const inner = x.shape[rank - 1]!;
  const innerReps = reps[rank - 1]!;
  const rowLength = inner * innerReps;
  const rows = size / rowLength;
  const outerOut = outShape.slice(0, -1);
  const srcStrides = tf.util.computeStrides(x.shape).concat([1]).slice(0, rank); // strides of x (last = 1)
  const counter = new Array<number>(outerOut.length).fill(0);
  for (let row = 0; row < rows; row++) {
    let srcRow = 0;
    for (let d = 0; d < outerOut.length; d++) srcRow += (counter[d]! % x.shape[d]!) * srcStrides[d]!;
    const dstRow = row * rowLength;
    if (inner === 1) {
      dst.fill(src[srcRow]!, dstRow, dstRow + rowLength);
    } else {
      const segment = src.subarray(srcRow, srcRow + inner);
      for (let r = 0; r < innerReps; r++) dst.set(segment as never, dstRow + r * inner);
    }
    for (let d = outerOut.length - 1; d >= 0; d--) {
      if (++counter[d]! < outerOut[d]!) break;
      counter[d] = 0;
    }
  }
  return out;
};

export const tileConfig: KernelConfig = { kernelName: tf.Tile, backendName: 'wasm', kernelFunc: tile };
