// The `native` tf.js backend: tfjs-backend-cpu's MathBackendCPU (tensor data as TypedArrays in Node
// memory, no wasm heap), whose kernels this package overrides with multi-threaded native ones. The cpu
// backend's own JS kernels stay registered for it and run on the same TypedArrays (no copies) wherever
// no native kernel exists or a native kernel declines an input.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import { allocate, escape, releaseValues, retain } from './memory.js';

export const NATIVE_BACKEND_NAME = 'native';

/** Side data a kernel keeps for one tensor (a packed weight, a sparse format), with how to free it. */
interface SideEntry {
  value: unknown;
  release?: (value: unknown) => void;
}

/**
 * The physical layout of a float32 [N, H, W, C] tensor stored channel-major, batch innermost ([C, H, W, N]:
 * what the sparse convolutions compute in). `values` holds that order; `nhwc` the row-major copy once a
 * kernel unaware of the layout has read the tensor (kept: both stay valid, tf.js data is immutable).
 */
export interface ChwnLayout {
  kind: 'chwn';
  /** The logical [N, H, W, C] shape the layout is relative to (a reshaped view sharing the data is not it). */
  shape: readonly number[];
  values: Float32Array;
  nhwc?: Float32Array;
}

/**
 * One tensor's storage entry. The first four fields are tfjs-backend-cpu's own (its kernels read them);
 * the rest belong to this backend:
 * - `side`: per-tensor side data of kernels (see NativeBackend.sideData), dropped with the data;
 * - `layout`: the physical order when it is not tf.js' row-major one (see writeChwn). `values` then
 *   materialises the row-major order on first read, so every kernel that does not ask for the layout
 *   (tfjs-backend-cpu's, the native ones, readSync) sees exactly what it would without it.
 */
export interface NativeTensorData {
  values?: backend_util.BackendValues;
  dtype: DataType;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
  refCount: number;
  side?: Map<string, SideEntry>;
  layout?: ChwnLayout;
}

/** CHWN → NHWC (toChwn false) or NHWC → CHWN of an [n, h, w, c] tensor (the addon's sparseTranspose). */
export type LayoutTranspose = (n: number, h: number, w: number, c: number, src: Float32Array, dst: Float32Array, toChwn: boolean) => void;

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  /** CHWN tensors whose NHWC order a reader needed (each is transposed once); for tests and profiles. */
  layoutMaterialisations = 0;

  /** The addon's layout transpose; without one (no sparse kernels) no tensor is ever stored CHWN. */
  constructor(readonly transpose?: LayoutTranspose) {
    super();
    // MathBackendCPU prints a "install tfjs-node" hint on its first write; it does not apply here.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The storage entry of a tensor (throws, naming the kernel, when it was disposed). */
  entry(t: TensorInfo, kernel: string): NativeTensorData {
    const d = this.data.get(t.dataId) as NativeTensorData | undefined;
    if (d == null) throw new Error(`native backend ${kernel}: the data of a [${t.shape.join(',')}] ${t.dtype} tensor is gone (disposed?)`);
    return d;
  }

  /**
   * Side data of one tensor, built on first use and kept while the tensor's data lives. tf.js data is
   * immutable and a variable's `assign` gives the variable a new dataId, so an entry never goes stale: it
   * is released (with `release`) when the data is disposed or moved to another backend.
   */
  sideData<T>(t: TensorInfo, key: string, build: () => T, release?: (value: T) => void): T {
    const d = this.entry(t, key);
    d.side ??= new Map();
    const hit = d.side.get(key);
    if (hit) return hit.value as T;
    const value = build();
    d.side.set(key, { value, release: release as ((value: unknown) => void) | undefined });
    return value;
  }

  /**
   * A new float32 tensor of logical shape [N, H, W, C] whose `values` are stored CHWN. Readers that ask
   * (chwnValues) get them as they are; any other read of `values` gets the NHWC order, transposed once.
   */
  writeChwn(values: Float32Array, shape: readonly number[]): TensorInfo {
    if (!this.transpose || shape.length !== 4) throw new Error(`native backend: cannot store a [${shape.join(',')}] tensor CHWN (4-D only, with the sparse kernels' transpose)`);
    const dataId = this.write(values, shape.slice(), 'float32');
    const d = this.data.get(dataId) as NativeTensorData;
    const layout: ChwnLayout = { kind: 'chwn', shape: shape.slice(), values };
    d.layout = layout;
    Object.defineProperty(d, 'values', {
      configurable: true,
      enumerable: true,
      get: () => this.materialise(d, layout),
      set: (v: backend_util.BackendValues) => Object.defineProperty(d, 'values', { value: v, writable: true, configurable: true, enumerable: true }),
    });
    return { dataId, shape: shape.slice(), dtype: 'float32' };
  }

  /** The CHWN values of t when its data is stored so for t's own shape; undefined otherwise. */
  chwnValues(t: TensorInfo | undefined): Float32Array | undefined {
    if (!t || t.dtype !== 'float32') return undefined;
    const layout = (this.data.get(t.dataId) as NativeTensorData | undefined)?.layout;
    if (!layout || layout.shape.length !== t.shape.length || layout.shape.some((n, i) => n !== t.shape[i])) return undefined;
    return layout.values;
  }

  private materialise(d: NativeTensorData, layout: ChwnLayout): Float32Array {
    if (!layout.nhwc) {
      const [n, h, w, c] = layout.shape as [number, number, number, number];
      const nhwc = allocate('float32', layout.values.length, false) as Float32Array;
      this.transpose!(n, h, w, c, layout.values, nhwc, false);
      this.layoutMaterialisations++;
      retain(nhwc);
      layout.nhwc = nhwc;
    }
    Object.defineProperty(d, 'values', { value: layout.nhwc, writable: true, configurable: true, enumerable: true });
    return layout.nhwc;
  }

  /** The arrays an entry holds (without materialising anything). */
  private held(d: NativeTensorData | undefined): unknown[] {
    if (!d) return [];
    if (!d.layout) return [d.values];
    return d.layout.nhwc ? [d.layout.values, d.layout.nhwc] : [d.layout.values];
  }

  private dropSide(dataId: DataId): void {
    const d = this.data.get(dataId) as NativeTensorData | undefined;
    if (!d?.side) return;
    for (const { value, release } of d.side.values()) release?.(value);
    d.side = undefined;
  }

  // Memory bookkeeping (memory.ts): every entry that stores values retains their block; the last one
  // to go releases it; values handed out by readSync (dataSync, data, arraySync) are never recycled.
  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    retain(values);
    return super.write(values, shape, dtype);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const d = this.data.get(dataId) as NativeTensorData | undefined;
    const dying = d !== undefined && (force || d.refCount <= 1);
    if (dying) this.dropSide(dataId);
    const held = dying ? this.held(d) : [];
    const done = super.disposeData(dataId, force);
    if (dying && !this.data.has(dataId)) for (const v of held) releaseValues(v);
    return done;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    const old = this.held(this.data.get(dataId) as NativeTensorData | undefined);
    this.dropSide(dataId);
    retain(values);
    super.move(dataId, values, shape, dtype, refCount);
    for (const v of old) releaseValues(v);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    escape((this.data.get(dataId) as NativeTensorData | undefined)?.values);
    return super.readSync(dataId);
  }
}
