// The `native` tf.js backend: tfjs-backend-cpu's MathBackendCPU (tensor data as TypedArrays in Node
// memory, no wasm heap), whose kernels this package overrides with multi-threaded native ones. The cpu
// backend's own JS kernels stay registered for it and run on the same TypedArrays (no copies) wherever
// no native kernel exists or a native kernel declines an input.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import { escape, releaseValues, retain } from './memory.js';

export const NATIVE_BACKEND_NAME = 'native';

/** Side data a kernel keeps for one tensor (a packed weight, a sparse format), with how to free it. */
interface SideEntry {
  value: unknown;
  release?: (value: unknown) => void;
}

/**
 * One tensor's storage entry. The first four fields are tfjs-backend-cpu's own (its kernels read them);
 * the rest belong to this backend:
 * - `side`: per-tensor side data of kernels (see NativeBackend.sideData), dropped with the data;
 * - `layout`: reserved for physical activation layouts (for the sparse kernels: keep e.g. oneDNN's blocked `nChw16c`
 *   across batch norm / ReLU / residual adds). Absent means tf.js' logical row-major layout, the only one
 *   any kernel produces today; a kernel that cannot read another layout must convert (or fall back) first,
 *   and readSync must return row-major values.
 */
export interface NativeTensorData {
  values?: backend_util.BackendValues;
  dtype: DataType;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
  refCount: number;
  side?: Map<string, SideEntry>;
  layout?: string;
}

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  constructor() {
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
    const done = super.disposeData(dataId, force);
    if (dying && !this.data.has(dataId)) releaseValues(d.values);
    return done;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    const old = this.data.get(dataId) as NativeTensorData | undefined;
    this.dropSide(dataId);
    retain(values);
    super.move(dataId, values, shape, dtype, refCount);
    if (old) releaseValues(old.values);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    escape((this.data.get(dataId) as NativeTensorData | undefined)?.values);
    return super.readSync(dataId);
  }
}
