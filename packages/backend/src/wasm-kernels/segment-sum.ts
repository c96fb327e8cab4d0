// UnsortedSegmentSum for wasm (missing from tfjs-backend-wasm 4.22; it is the gradient of gather,
// i.e. of every embedding lookup). out[s, ...] = sum of x[i, ...] over i with segmentIds[i] == s;
// ids outside [0, numSegments) are dropped, as in TensorFlow.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, f32, i32 } from './heap.js';

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const idRank = segmentIds.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape.join(',')}] must be a prefix of x shape [${x.shape.join(',')}]`,
      );
    }
  }
  if (segmentIds.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: x must be float32 or int32, got ${x.dtype}`);
  const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  const ids = i32(wasm, segmentIds);
  const src = x.dtype === 'float32' ? f32(wasm, x) : i32(wasm, x);
  const dst = x.dtype === 'float32' ? f32(wasm, out) : i32(wasm, out);
  dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const so = r * inner;
    const dOff = s * inner;
    for (let j = 0; j < inner; j++) dst[dOff + j] = dst[dOff + j]! + src[so + j]!;
  }
  return out;
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
