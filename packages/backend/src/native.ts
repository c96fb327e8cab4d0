// Optional native addon (packages/backend/native): heavy kernels on OpenBLAS, multi-threaded, reading
// and writing the wasm backend's tensor memory in place. Built by the package's install script when it
// runs and the build tools are there; absent otherwise (see notBuiltReason).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeAddon {
  /** BLAS library the addon was linked against, e.g. "openblas 0.3.21". */
  library(): string;
  threads(): number;
  setThreads(n: number): void;
  /** Which library runs convolutions: oneDNN when the addon was built with it, else im2col + OpenBLAS. */
  convLibrary(): 'onednn' | 'openblas';
  /** Choose it (tests and the benchmark compare both); throws for 'onednn' when built without it. */
  setConvLibrary(library: 'onednn' | 'openblas'): void;
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
  /**
   * LayerNorm over the last axis of [rows, size] (byte offsets): forward
   * layerNorm(heap, rows, size, eps, x, gamma, beta, y, mean, rstd), gradient
   * layerNorm(heap, rows, size, dy, x, gamma, mean, rstd, dx, dgamma, dbeta).
   */
  layerNorm(heap: ArrayBufferLike, rows: number, size: number, ...args: number[]): void;
  /**
   * GELU over n floats (tanh approximation or exact erf): gelu(heap, n, tanh, x, y) for y, or
   * gelu(heap, n, tanh, dy, x, dx) for its gradient. Byte offsets.
   */
  gelu(heap: ArrayBufferLike, n: number, tanhApprox: boolean, a: number, b: number, c?: number): void;
  /**
   * Fused training batch norm over x [rows, channels] (see @sparse-ift/core's batchNormTrain); byte
   * offsets, -1 for an absent residual.
   */
  batchNormForward(
    heap: ArrayBufferLike, rows: number, channels: number, relu: boolean, epsilon: number,
    x: number, gamma: number, beta: number, residual: number, y: number, mean: number, variance: number,
  ): void;
  /** Its gradient; y is needed (and read) only with relu; -1 for absent y / dresidual. */
  batchNormBackward(
    heap: ArrayBufferLike, rows: number, channels: number, relu: boolean, epsilon: number,
    dy: number, x: number, gamma: number, mean: number, variance: number, y: number,
    dx: number, dgamma: number, dbeta: number, dresidual: number,
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

const REBUILD = '`npm rebuild @sparse-ift/backend --foreground-scripts`';

/**
 * Why the addon file is missing, with a fix that works where the package is installed (a project or
 * this repository). npm shows no install-script output, so the install-time build leaves its reason
 * in build/install-failure.txt.
 */
export function notBuiltReason(path: string): string {
  const failureFile = join(dirname(dirname(path)), 'install-failure.txt');
  if (existsSync(failureFile)) {
    const why = readFileSync(failureFile, 'utf8').trim();
    return `not built when the package was installed: ${why}. Fix that, then run ${REBUILD}`;
  }
  return (
    'not built: its install script has not run (installed with --ignore-scripts, or npm blocked the unapproved script: ' +
    `\`npm install-scripts approve @sparse-ift/backend\`). Run ${REBUILD} (needs g++, make, python3 and libopenblas-dev)`
  );
}

/** Load the native addon once; never throws (reports why when absent). */
/**
 * OpenBLAS 0.3.21 (Debian 12) does not recognise AMD Zen 4 and falls back on its AVX2 (Haswell) kernels;
 * on a CPU with AVX-512 F/BW/DQ/VL its SkylakeX kernels run ~1.7x faster (measured here: sgemm
 * 2048x256x1024 at 185 vs 320 GFLOP/s on 2 cores). Must be set before the library loads; a user's own
 * OPENBLAS_CORETYPE wins.
 */
function preferAvx512Blas(): void {
  if (process.env['OPENBLAS_CORETYPE'] || process.platform !== 'linux') return;
  try {
    const flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
    if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) process.env['OPENBLAS_CORETYPE'] = 'SkylakeX';
  } catch {
    /* no /proc/cpuinfo: leave OpenBLAS to choose */
  }
}

export function loadNativeAddon(): NativeStatus {
  if (cached) return cached;
  if (process.env['SPARSE_IFT_NATIVE'] === '0') return (cached = { loaded: false, why: 'disabled by SPARSE_IFT_NATIVE=0' });
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    return (cached = { loaded: false, why: notBuiltReason(path) });
  }
  try {
    preferAvx512Blas();
    const addon = require(path) as NativeAddon;
    return (cached = { loaded: true, addon, library: addon.library(), threads: addon.threads(), path });
  } catch (e) {
    return (cached = { loaded: false, why: `failed to load ${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
}
