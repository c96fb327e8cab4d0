// BatchMatMul for wasm. tfjs-backend-wasm 4.22 only takes its fast XNNPACK path for a single,
// untransposed product; transposeA/transposeB (used by every matMul gradient) and batch > 1
// (attention) fall to a naive loop at 0.4-2 GFLOP/s. Here: transpose explicitly (wasm Transpose), then
// run each batch entry through the fast path on views of the heap. With the native addon loaded, large
// products go to multi-threaded BLAS sgemm instead, in place on the heap.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, assertAllocated, byteOffset, disposeAll, makeView, releaseView, shapeBytes, tensorId, type WasmBackend } from './heap.js';
import { original, transpose } from './call.js';
import { applyEpilogue, supportedEpilogue } from './epilogue.js';
import { nativeGemm } from './native-hook.js';

type WasmBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number,
  bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void;

let wasmBatchMatMul: WasmBatchMatMul | undefined;

function setup(backend: object): void {
  wasmBatchMatMul = asWasmBackend(backend).wasm.cwrap('BatchMatMul', null, [
    'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
  ]) as unknown as WasmBatchMatMul;
}

/** Minimum m*n*k for the native addon (below it, call overhead dominates). */
const NATIVE_MIN_WORK = 32 * 32 * 32;

export interface MatMulDims {
  batchA: number;
  batchB: number;
  batch: number;
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

export function matMulDims(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulDims {
  const aRank = aShape.length;
  const bRank = bShape.length;
  const k = transposeA ? aShape[aRank - 2]! : aShape[aRank - 1]!;
  const kB = transposeB ? bShape[bRank - 1]! : bShape[bRank - 2]!;
  const m = transposeA ? aShape[aRank - 1]! : aShape[aRank - 2]!;
  const n = transposeB ? bShape[bRank - 2]! : bShape[bRank - 1]!;
  if (k !== kB) {
    throw new Error(
      `matMul: inner dimensions differ: a [${aShape.join(',')}] (transposeA=${transposeA}) and b [${bShape.join(',')}] (transposeB=${transposeB})`,
    );
  }
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(`matMul: batch dims [${outerA.join(',')}] and [${outerB.join(',')}] must be equal or one of them 1`);
  }
  return { batchA, batchB, batch: Math.max(batchA, batchB), m, k, n, outShape: [...outer, m, n] };
}

/** out[batch, m, n] = op(a) op(b) on the wasm heap; a/b may be any rank >= 2. */
export function batchMatMulImpl(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`matMul on wasm supports float32 only (got ${a.dtype} x ${b.dtype}); cast the inputs first`);
  }
  const d = matMulDims(a.shape, b.shape, transposeA, transposeB);
  const out = backend.makeOutput([d.batch, d.m, d.n], 'float32');
  const size = d.batch * d.m * d.n;
  if (size === 0) return { ...out, shape: d.outShape };
  if (d.k === 0) {
    new Float32Array(backend.wasm.HEAPU8.buffer, byteOffset(backend, out), size).fill(0);
    return { ...out, shape: d.outShape };
  }
  const gemm = nativeGemm();
  if (gemm && d.m * d.n * d.k >= NATIVE_MIN_WORK) {
    assertAllocated(backend, out, 'a matMul output');
    gemm(backend.wasm.HEAPU8.buffer, transposeA, transposeB, d.m, d.n, d.k,
      byteOffset(backend, a), byteOffset(backend, b), byteOffset(backend, out),
      d.batch, d.batchA === 1 ? 0 : d.m * d.k * 4, d.batchB === 1 ? 0 : d.k * d.n * 4, d.m * d.n * 4, false);
    return { ...out, shape: d.outShape };
  }
  // Untransposed, contiguous operands for the XNNPACK path.
  const a3: TensorInfo = { ...a, shape: transposeA ? [d.batchA, d.k, d.m] : [d.batchA, d.m, d.k] };
  const b3: TensorInfo = { ...b, shape: transposeB ? [d.batchB, d.n, d.k] : [d.batchB, d.k, d.n] };
  const aT = transposeA ? transpose(backend, a3, [0, 2, 1]) : undefined;
  const bT = transposeB ? transpose(backend, b3, [0, 2, 1]) : undefined;
  const aN = aT ?? a3;
  const bN = bT ?? b3;
  const run = wasmBatchMatMul!;
  if (d.batch === 1) {
    run(tensorId(backend, aN), shapeBytes([1, d.m, d.k]), 3, tensorId(backend, bN), shapeBytes([1, d.k, d.n]), 3, false, false, tensorId(backend, out));
  } else {
    const aBase = byteOffset(backend, aN);
    const bBase = byteOffset(backend, bN);
    const outBase = byteOffset(backend, out);
    const aShape = shapeBytes([1, d.m, d.k]);
    const bShape = shapeBytes([1, d.k, d.n]);
    // A shared right operand keeps one view, so XNNPACK packs it once.
    const sharedB = d.batchB === 1 ? makeView(backend, bBase, [1, d.k, d.n]) : undefined;
    for (let i = 0; i < d.batch; i++) {
      const av = makeView(backend, aBase + (d.batchA === 1 ? 0 : i * d.m * d.k * 4), [1, d.m, d.k]);
      const bv = sharedB ?? makeView(backend, bBase + i * d.k * d.n * 4, [1, d.k, d.n]);
      const ov = makeView(backend, outBase + i * d.m * d.n * 4, [1, d.m, d.n]);
      run(av.id, aShape, 3, bv.id, bShape, 3, false, false, ov.id);
      releaseView(backend, av);
      if (!sharedB) releaseView(backend, bv);
      releaseView(backend, ov);
    }
    if (sharedB) releaseView(backend, sharedB);
  }
  disposeAll(backend, aT, bT);
  return { ...out, shape: d.outShape };
}

const batchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  return batchMatMulImpl(asWasmBackend(backend), a, b, transposeA, transposeB);
};

export const batchMatMulConfig: KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  setupFunc: setup,
  kernelFunc: batchMatMul,
};

// _FusedMatMul (tfjs-layers Dense): the native addon when loaded, else wasm's own kernel.
const fusedMatMul: KernelFunc = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
  const n = attrs.transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  if (!nativeGemm() || a.dtype !== 'float32' || !supportedEpilogue(attrs.activation, bias, n, preluActivationWeights)) {
    return original(tf._FusedMatMul).kernelFunc(args);
  }
  const backend = asWasmBackend(args.backend);
  const out = batchMatMulImpl(backend, a, b, attrs.transposeA, attrs.transposeB);
  applyEpilogue(backend, out, n, bias, attrs.activation, attrs.leakyreluAlpha ?? 0.2);
  return out;
};

export const fusedMatMulConfig: KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'wasm',
  kernelFunc: fusedMatMul,
};
