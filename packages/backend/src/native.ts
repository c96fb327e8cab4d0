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
  /** The native tf.js backend's kernels, on TypedArrays (native/tensor_kernels.cc). */
  tensors: TensorKernels;
}

/** Geometry of a window op: [N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, padTop, padLeft]. */
export type WindowGeometry = Float64Array;

/**
 * Kernels on the TypedArrays tfjs-backend-cpu stores tensors in, read and written in place. Every entry
 * checks argument types and lengths and throws an Error naming itself and the argument otherwise. Integer
 * lists (dims, strides, geometry) are Float64Arrays.
 */
export interface TensorKernels {
  /** "oneDNN 2.6.3 (cpu runtime OpenMP) (JIT avx512_core) + OpenMP kernels (avx512)". */
  description(): string;
  /** The copy of the hand-written kernels this CPU runs: 'avx512', 'avx2' or 'x86-64'. */
  isa(): string;
  /** fp32 GFLOP/s of one core on register-resident vector FMAs (measured on the thread's CPU clock). */
  fmaPeak(): number;
  /** op 0: out = conv(x, filter); 1: dx from (dy, filter); 2: dfilter from (x, dy). False: oneDNN declined. */
  conv2d(op: 0 | 1 | 2, geometry: WindowGeometry, in1: Float32Array, in2: Float32Array, out: Float32Array): boolean;
  /** out[b] = op(a[b]) op(b[b]) + bias; shape [batch, batchA, batchB, M, N, K]. False: oneDNN declined. */
  matmul(shape: Float64Array, transposeA: boolean, transposeB: boolean, a: Float32Array, b: Float32Array, bias: Float32Array | null, out: Float32Array): boolean;
  /** Float32Array or Int32Array operands; Uint8Array (bool) for the logical ops (32, 33). */
  binary(op: number, dims: Float64Array, a: Float32Array | Int32Array | Uint8Array, aStrides: Float64Array, b: Float32Array | Int32Array | Uint8Array,
    bStrides: Float64Array, out: Float32Array | Int32Array | Uint8Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number, beta: number): void;
  /** out[a, b] = reduce over r of x[a, r, b]; Int32Arrays for the sum (op 0) too. */
  reduce<T extends Float32Array | Int32Array>(op: number, A: number, R: number, B: number, x: T, out: T): void;
  transpose(dims: Float64Array, perm: Float64Array, x: TypedArray, out: TypedArray): void;
  tile(dims: Float64Array, reps: Float64Array, x: TypedArray, out: TypedArray): void;
  softmax(rows: number, cols: number, x: Float32Array, out: Float32Array): void;
  /** op 0 max (x), 1 max gradient (dy, x), 2 average (x), 3 average gradient (dy). */
  pool(op: 0 | 1 | 2 | 3, geometry: WindowGeometry, in1: Float32Array, in2: Float32Array | null, out: Float32Array): void;
  /** False when an index lies outside [0, axis). */
  gather(outer: number, axis: number, inner: number, x: TypedArray, indices: Int32Array, out: TypedArray): boolean;
  segmentSum(rows: number, inner: number, x: Float32Array | Int32Array, ids: Int32Array, segments: number, out: Float32Array | Int32Array): void;
  cast(x: TypedArray, out: TypedArray): void;
  batchNormForward(relu: boolean, epsilon: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, residual: Float32Array | null,
    y: Float32Array, mean: Float32Array, variance: Float32Array): void;
  batchNormBackward(relu: boolean, epsilon: number, dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array,
    variance: Float32Array, y: Float32Array | null, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, dresidual: Float32Array | null): void;
  layerNormForward(epsilon: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dx: Float32Array,
    dgamma: Float32Array, dbeta: Float32Array): void;
  gelu(tanh: boolean, x: Float32Array, y: Float32Array): void;
  geluGrad(tanh: boolean, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** out = x is finite (bool as 0/1). */
  isFinite(x: Float32Array, out: Uint8Array): void;
  /** out = condition ? a : b elementwise (equal lengths; a, b, out of one type). */
  select(condition: Uint8Array, a: Float32Array | Int32Array, b: Float32Array | Int32Array, out: Float32Array | Int32Array): void;
  /** @sparse-ift/core's Philox dropout: out = x · scale where the element's Philox word ≥ threshold, else 0. */
  dropout(x: Float32Array, out: Float32Array, scale: number, threshold: number, key: Float64Array, counter: Float64Array): void;
  /** Copies a dims-shaped block between element offsets/strides of x and out (slice, pad, concat, split). */
  copyBlock(dims: Float64Array, x: TypedArray, xOffset: number, xStrides: Float64Array, out: TypedArray, outOffset: number, outStrides: Float64Array): void;
  addN(xs: Float32Array[], out: Float32Array): void;
  /** y = (x - mean[c]) * k[c] + offset[c] over rows of C = mean.length channels. */
  channelAffine(x: Float32Array, mean: Float32Array, k: Float32Array, offset: Float32Array, y: Float32Array): void;
  /** Index of the first max (or min) over r of x[a, r, b]. */
  argReduce(max: boolean, A: number, R: number, B: number, x: Float32Array, out: Int32Array): void;
  oneHot(indices: Int32Array, depth: number, on: number, off: number, out: Float32Array | Int32Array): void;
  /** @sparse-ift/core's SparseIftSgdUpdate in one pass (momentum and its output null without a buffer). */
  sgdUpdate(w: Float32Array, g: Float32Array, momentum: Float32Array | null, wOut: Float32Array, momentumOut: Float32Array | null,
    learningRate: number, mu: number, dampening: number, nesterov: boolean, weightDecay: number, firstStep: boolean): void;
  /** @sparse-ift/core's SparseIftAdamWUpdate in one pass (maxExpAvgSq and its output null without amsgrad). */
  adamWUpdate(w: Float32Array, g: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, maxExpAvgSq: Float32Array | null,
    wOut: Float32Array, expAvgOut: Float32Array, expAvgSqOut: Float32Array, maxExpAvgSqOut: Float32Array | null,
    decayFactor: number, beta1: number, beta2: number, epsilon: number, stepSize: number, biasCorrection2Sqrt: number): void;
  /** A 64-byte aligned block as an external ArrayBuffer of `bytes` bytes (zeroed when asked). */
  alloc(bytes: number, zero: boolean): ArrayBuffer;
  /** Detach and free a block from `alloc` that nothing references; false for any other ArrayBuffer. */
  discard(buffer: ArrayBufferLike): boolean;
  /** A block from `alloc` is now referenced from JavaScript: V8 is told about its memory. */
  escape(buffer: ArrayBufferLike): void;
  /** Return freed heap memory to the system (glibc's malloc_trim). */
  releaseFreed(): void;
  poolStats(): { liveBytes: number; allocations: number; discards: number; physicalBytes: number };
}

export type TypedArray = Float32Array | Int32Array | Uint8Array;

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

/**
 * libgomp's idle threads spin ~300,000 pause instructions (milliseconds) before sleeping. On a machine
 * shared with other work a spinning thread steals the core the next kernel needs: a GPT step measured
 * 4.4 s with the default, 1.8-2.0 s with GOMP_SPINCOUNT=1000 or OMP_WAIT_POLICY=passive, same load.
 * A short spin still covers the gap between back-to-back kernels. Read when libgomp loads, so it is set
 * before the addon is; a user's own OMP_WAIT_POLICY / GOMP_SPINCOUNT wins, and child processes (the
 * benchmark's PyTorch) inherit it.
 */
function preferShortOpenMpSpin(): void {
  if (process.env['OMP_WAIT_POLICY'] || process.env['GOMP_SPINCOUNT']) return;
  process.env['GOMP_SPINCOUNT'] = '1000';
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
    preferShortOpenMpSpin();
    const addon = require(path) as NativeAddon;
    return (cached = { loaded: true, addon, library: addon.library(), threads: addon.threads(), path });
  } catch (e) {
    return (cached = { loaded: false, why: `failed to load ${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
}
