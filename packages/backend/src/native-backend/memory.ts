// Where the native backend's tensor memory comes from. Tensors of 64 KiB and more live in 64-byte aligned
// blocks of the addon (native/memory_pool.cc), each wrapped once in an ArrayBuffer that this module keeps
// and reuses: when the last storage entry using a block is disposed, its ArrayBuffer goes to a free list
// by size class and the next tensor of that class gets a view of it. A training step therefore runs on
// the memory of the step before, with no page faults on fresh pages and no new ArrayBuffers for V8 to
// account and collect. Tensors from 1 KiB to 64 KiB are pooled the same way in power-of-two classes: on a
// small model (a Fashion-MNIST MLP) nearly every output is one, and a fresh zero-filled Float32Array (plus
// the garbage it leaves) cost about as much as the kernel that fills it. Smaller tensors are ordinary
// TypedArrays.
//
// Safety rests on knowing every reference to a block: storage entries are counted (views made by Slice
// and friends included, see NativeBackend.write), and a block whose array was handed to JavaScript
// (readSync: dataSync, data, arraySync) is never reused; the garbage collector frees it. Buffers over the
// reuse limit (oldest first) are detached and freed at once.
import type { DataType } from '@tensorflow/tfjs-core';
import type { TensorKernels, TypedArray } from '../native.js';

/** Below this many bytes a plain TypedArray is as cheap as a pool block (measured: ~1 µs either way). */
const POOL_MIN_BYTES = 1024;
/** Below this many bytes the size classes are powers of two. */
const SMALL_CLASS_BYTES = 64 * 1024;

let pool: TensorKernels | undefined;
/** Pool buffers -> storage entries using them. Weak, so a dropped buffer can still be collected. */
const holders = new WeakMap<ArrayBufferLike, number>();
/** Reusable buffers by byte length (a size class); a Set keeps release order (oldest evicted first). */
const free = new Map<number, ArrayBuffer[]>();
const freeOrder = new Set<ArrayBuffer>();
let freeBytes = 0;
/** Most bytes kept for reuse (see reuseLimit). */
let freeLimit = 0;

/**
 * A quarter of the machine's memory holds every transient tensor of a training step and leaves the rest
 * to the live tensors; SPARSE_IFT_POOL_MAX_MB overrides it (0: every block is freed when its tensor goes).
 */
function reuseLimit(physicalBytes: number): number {
  const raw = process.env['SPARSE_IFT_POOL_MAX_MB'];
  if (raw === undefined || raw.trim() === '') return physicalBytes / 4;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new Error(`native backend: SPARSE_IFT_POOL_MAX_MB must be a number of MiB >= 0 (the tensor memory kept for reuse; unset: a quarter of the machine's memory), got '${raw}'`);
  }
  return mb * 2 ** 20;
}

/** Use the addon's blocks (SPARSE_IFT_NATIVE_POOL=0 keeps every tensor in ordinary TypedArrays). */
export function usePool(kernels: TensorKernels | undefined): void {
  const candidate = process.env['SPARSE_IFT_NATIVE_POOL'] === '0' ? undefined : kernels;
  freeLimit = candidate ? reuseLimit(candidate.poolStats().physicalBytes) : 0;
  pool = candidate;
}

/**
 * Size classes: powers of two below 64 KiB, multiples of 64 KiB up to 1 MiB, then four per power of two
 * (at most 25 % slack above 64 KiB).
 */
export function sizeClass(bytes: number): number {
  const k64 = SMALL_CLASS_BYTES;
  if (bytes < k64) return 2 ** Math.ceil(Math.log2(Math.max(bytes, POOL_MIN_BYTES)));
  if (bytes <= 2 ** 20) return Math.ceil(bytes / k64) * k64;
  let p = 2 ** 20;
  while (p * 2 < bytes) p *= 2;
  return Math.ceil(bytes / (p / 4)) * (p / 4);
}

const BYTES: Partial<Record<DataType, number>> = { float32: 4, int32: 4, bool: 1 };

function view(dtype: DataType, buffer: ArrayBuffer, size: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(buffer, 0, size) : dtype === 'int32' ? new Int32Array(buffer, 0, size) : new Uint8Array(buffer, 0, size);
}

/** A new array for `size` elements of dtype; zero-filled unless `zero` is false (the caller writes all). */
export function allocate(dtype: DataType, size: number, zero = true): TypedArray {
  const bytes = BYTES[dtype];
  if (bytes === undefined) throw new Error(`native backend: cannot allocate a ${dtype} tensor`);
  if (!pool || size * bytes < POOL_MIN_BYTES) {
    return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
  }
  const cls = sizeClass(size * bytes);
  const reused = free.get(cls)?.pop();
  let buffer: ArrayBuffer;
  if (reused) {
    freeOrder.delete(reused);
    freeBytes -= cls;
    buffer = reused;
  } else {
    buffer = pool.alloc(cls, false);
  }
  holders.set(buffer, 0);
  const values = view(dtype, buffer, size);
  if (zero) values.fill(0);
  return values;
}

function bufferOf(values: unknown): ArrayBufferLike | undefined {
  return ArrayBuffer.isView(values) ? values.buffer : undefined;
}

/** Free the oldest reusable buffers until `bytes` more fit under the limit. */
function evict(bytes: number): void {
  for (const old of freeOrder) {
    if (freeBytes + bytes <= freeLimit) return;
    const list = free.get(old.byteLength)!;
    list.splice(list.indexOf(old), 1);
    freeOrder.delete(old);
    freeBytes -= old.byteLength;
    pool?.discard(old);
  }
}

function recycle(buffer: ArrayBufferLike): void {
  holders.delete(buffer);
  const cls = buffer.byteLength;
  if (cls > freeLimit) {
    pool?.discard(buffer); // could never be kept: the kept ones stay
    return;
  }
  evict(cls);
  let list = free.get(cls);
  if (!list) free.set(cls, (list = []));
  list.push(buffer as ArrayBuffer);
  freeOrder.add(buffer as ArrayBuffer);
  freeBytes += cls;
}

/** A storage entry now uses `values`. */
export function retain(values: unknown): void {
  const b = bufferOf(values);
  const n = b && holders.get(b);
  if (n !== undefined) holders.set(b!, n + 1);
}

/** A storage entry using `values` is gone: recycle its block when nothing else uses it. */
export function releaseValues(values: unknown): void {
  const b = bufferOf(values);
  const n = b && holders.get(b);
  if (n === undefined) return;
  if (n > 1) holders.set(b!, n - 1);
  else recycle(b!);
}

/** A scratch array from `allocate` that no tensor uses: recycle it now. */
export function discard(values: TypedArray): void {
  if (holders.get(values.buffer) === 0) recycle(values.buffer);
}

/** `values` was handed to JavaScript: its block is left to the garbage collector. */
export function escape(values: unknown): void {
  const b = bufferOf(values);
  if (b && holders.delete(b)) pool?.escape(b);
}

/** Free every buffer kept for reuse (memory returns to the system now); returns the bytes freed. */
export function trimNativeMemory(): number {
  const bytes = freeBytes;
  for (const b of freeOrder) pool?.discard(b);
  free.clear();
  freeOrder.clear();
  freeBytes = 0;
  pool?.releaseFreed();
  return bytes;
}

/** Bytes held by live tensors' blocks and kept for reuse. */
export function nativeMemoryStats(): { liveBytes: number; reusableBytes: number; reusableLimit: number } {
  const live = pool?.poolStats().liveBytes ?? 0;
  return { liveBytes: live - freeBytes, reusableBytes: freeBytes, reusableLimit: freeLimit };
}
