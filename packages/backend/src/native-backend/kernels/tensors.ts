// Access to tensor memory for the native kernels: the TypedArray tfjs-backend-cpu stores (no copy), and
// output allocation (the one place that decides where new tensor memory comes from).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { allocate } from '../memory.js';
import type { NativeBackend } from '../backend.js';
import type { TypedArray } from '../../native.js';
import type { Conv2DGeometry } from '../../wasm-kernels/conv2d.js';

/** The tensor's values if stored as a Float32Array (tfjs-backend-cpu may hold plain arrays too). */
export function f32(backend: NativeBackend, t: TensorInfo | undefined, kernel: string): Float32Array | undefined {
  if (!t || t.dtype !== 'float32') return undefined;
  const v = backend.entry(t, kernel).values;
  return v instanceof Float32Array ? v : undefined;
}

export function i32(backend: NativeBackend, t: TensorInfo | undefined, kernel: string): Int32Array | undefined {
  if (!t || t.dtype !== 'int32') return undefined;
  const v = backend.entry(t, kernel).values;
  return v instanceof Int32Array ? v : undefined;
}

/** float32 as Float32Array, int32 as Int32Array, bool as Uint8Array; undefined otherwise. */
export function typed(backend: NativeBackend, t: TensorInfo | undefined, kernel: string): TypedArray | undefined {
  if (!t) return undefined;
  const v = backend.entry(t, kernel).values;
  if (t.dtype === 'float32') return v instanceof Float32Array ? v : undefined;
  if (t.dtype === 'int32') return v instanceof Int32Array ? v : undefined;
  if (t.dtype === 'bool') return v instanceof Uint8Array ? v : undefined;
  return undefined;
}

/**
 * A new tensor of the backend and its values, to be written by a native kernel: zero-filled, unless
 * `init` is 'any' (only for kernels that write every element).
 */
export function output<D extends 'float32' | 'int32' | 'bool'>(
  backend: NativeBackend,
  shape: number[],
  dtype: D,
  init: 'zero' | 'any' = 'zero',
): { info: TensorInfo; values: D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array } {
  const values = allocate(dtype, tf.util.sizeFromShape(shape), init === 'zero');
  return { info: backend.makeTensorInfo(shape, dtype, values), values: values as never };
}

let chwnActivations = process.env['SIFT_LAYOUT'] !== 'nhwc';

/**
 * Whether kernels may write CHWN activations (default; `SIFT_LAYOUT=nhwc` at start or false here keeps
 * every tensor NHWC, as before layouts existed: A/B timings, debugging).
 */
export function setChwnActivations(on: boolean): void {
  chwnActivations = on;
}

/**
 * A new float32 [N, H, W, C] tensor stored CHWN (see NativeBackend.writeChwn), to be written whole by a
 * kernel; a plain (NHWC) output where the backend cannot store CHWN, the shape is not 4-D or CHWN
 * activations are off.
 */
export function chwnOutput(backend: NativeBackend, shape: number[]): { info: TensorInfo; values: Float32Array; chwn: boolean } {
  if (!chwnActivations || !backend.transpose || shape.length !== 4 || tf.util.sizeFromShape(shape) === 0) {
    return { ...output(backend, shape, 'float32', 'any'), chwn: false };
  }
  const values = allocate('float32', tf.util.sizeFromShape(shape), false) as Float32Array;
  return { info: backend.writeChwn(values, shape), values, chwn: true };
}

/**
 * t's values in CHWN order: as stored, or transposed into a scratch array (`scratch` true: the caller
 * discards it). Undefined where t is not a float32 [N, H, W, C] Float32Array or the backend cannot transpose.
 */
export function chwnOf(backend: NativeBackend, t: TensorInfo | undefined, kernel: string): { values: Float32Array; scratch: boolean } | undefined {
  const stored = backend.chwnValues(t);
  if (stored) return { values: stored, scratch: false };
  const v = f32(backend, t, kernel);
  if (!v || !backend.transpose || t!.shape.length !== 4) return undefined;
  const [n, h, w, c] = t!.shape as [number, number, number, number];
  const values = allocate('float32', v.length, false) as Float32Array;
  if (v.length > 0) backend.transpose(n, h, w, c, v, values, true);
  return { values, scratch: true };
}

export function ints(xs: readonly number[]): Float64Array {
  return Float64Array.from(xs);
}

/** [N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, padTop, padLeft] for the addon's window kernels. */
export function windowGeometry(g: Conv2DGeometry): Float64Array {
  return ints([g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft]);
}

/** True when any tensor is empty (no kernel call needed; the JS kernel handles it). */
export function anyEmpty(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.some((t) => t !== undefined && tf.util.sizeFromShape(t.shape) === 0);
}
