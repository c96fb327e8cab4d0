// Optional native addon (packages/backend/native): heavy kernels on OpenBLAS, multi-threaded, reading
// and writing the wasm backend's tensor memory in place. Absent unless `npm run build:native` ran.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeAddon {
  /** BLAS library the addon was linked against, e.g. "openblas 0.3.21". */
  library(): string;
  threads(): number;
  setThreads(n: number): void;
  /**
   * Row-major single-precision GEMM over a shared buffer (the wasm heap):
   * C[m,n] = op(A)[m,k] * op(B)[k,n] (+ C when accumulate). Offsets are in bytes.
   */
  sgemm(
    heap: ArrayBufferLike,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    aOffset: number,
    bOffset: number,
    cOffset: number,
    batch: number,
    aBatchStride: number,
    bBatchStride: number,
    cBatchStride: number,
    accumulate: boolean,
  ): void;
  /**
   * 2-D convolution, NHWC, filter [KH, KW, C, O], on the heap (offsets in bytes).
   * op 0: y = conv(x, w); op 1: dx from (dy, w); op 2: dw from (x, dy).
   */
  conv2d(
    heap: ArrayBufferLike,
    op: 0 | 1 | 2,
    n: number, h: number, w: number, c: number,
    oh: number, ow: number, o: number,
    kh: number, kw: number,
    strideH: number, strideW: number,
    dilationH: number, dilationW: number,
    padTop: number, padLeft: number,
    in1Offset: number, in2Offset: number, outOffset: number,
  ): void;
}

export type NativeStatus =
  | { loaded: true; addon: NativeAddon; library: string; threads: number; path: string }
  | { loaded: false; why: string };

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where a built addon may be: native/build/Release relative to src/ (vitest) or dist/ (built). */
export function nativeAddonPath(): string {
  return join(here, '..', 'native', 'build', 'Release', 'sparse_ift_native.node');
}

let cached: NativeStatus | undefined;

/** Load the native addon once; never throws (reports why when absent). */
export function loadNativeAddon(): NativeStatus {
  if (cached) return cached;
  if (process.env['SPARSE_IFT_NATIVE'] === '0') return (cached = { loaded: false, why: 'disabled by SPARSE_IFT_NATIVE=0' });
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    return (cached = { loaded: false, why: `not built (${path} missing; run \`npm run build:native -w @sparse-ift/backend\`)` });
  }
  try {
    const addon = require(path) as NativeAddon;
    return (cached = { loaded: true, addon, library: addon.library(), threads: addon.threads(), path });
  } catch (e) {
    return (cached = { loaded: false, why: `failed to load ${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
}
