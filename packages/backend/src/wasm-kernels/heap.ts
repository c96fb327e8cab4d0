// Minimal typed access to the wasm backend's internals: tensor memory on the wasm heap, tensor ids,
// and "views" (extra tensor ids registered at an offset inside another tensor, so a wasm C++ kernel
// can run on one slice of a batch without a copy).
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

type CwrapArg = 'number' | 'array' | 'string' | 'boolean';

/** The parts of the emscripten module the wasm backend exposes that this package uses. */
export interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: null | 'number', args: CwrapArg[]): (...args: unknown[]) => unknown;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
    getThreadsCount(): number;
  };
}

interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm this package uses. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): TensorData | undefined; set(dataId: object, d: TensorData): void; delete(dataId: object): void };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

export function tensorData(backend: WasmBackend, t: TensorInfo): TensorData {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error(`wasm tensor data missing for a tensor of shape [${t.shape.join(',')}] (disposed?)`);
  return d;
}

export function tensorId(backend: WasmBackend, t: TensorInfo): number {
  return tensorData(backend, t).id;
}

/**
 * Float32 view of a tensor's memory. Re-fetch after any allocation: memory growth detaches the buffer.
 */
export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const { memoryOffset } = tensorData(backend, t);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, tf.util.sizeFromShape(t.shape));
}

export function i32(backend: WasmBackend, t: TensorInfo): Int32Array {
  const { memoryOffset } = tensorData(backend, t);
  return new Int32Array(backend.wasm.HEAPU8.buffer, memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Dtypes whose memory `typedView` can read (everything but strings and complex). */
export function hasTypedView(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/** A tensor's memory as the typed array of its dtype (float32, int32, bool); undefined for others. */
export function typedView(backend: WasmBackend, t: TensorInfo): Float32Array | Int32Array | Uint8Array | undefined {
  const { memoryOffset } = tensorData(backend, t);
  const size = tf.util.sizeFromShape(t.shape);
  const buffer = backend.wasm.HEAPU8.buffer;
  if (t.dtype === 'float32') return new Float32Array(buffer, memoryOffset, size);
  if (t.dtype === 'int32') return new Int32Array(buffer, memoryOffset, size);
  if (t.dtype === 'bool') return new Uint8Array(buffer, memoryOffset, size);
  return undefined;
}

export function byteOffset(backend: WasmBackend, t: TensorInfo): number {
  return tensorData(backend, t).memoryOffset;
}

// Ids for views count down from the top of the int32 range so they never collide with the backend's
// own ids (which count up from 1).
let nextViewId = 0x7ffffff0;

export interface TensorView {
  id: number;
  shape: number[];
}

/** Register a tensor id that aliases `size` floats at `memoryOffset` (bytes). Release with releaseView. */
export function makeView(backend: WasmBackend, memoryOffset: number, shape: number[]): TensorView {
  const id = nextViewId--;
  if (nextViewId < 0x40000000) nextViewId = 0x7ffffff0;
  backend.wasm.tfjs.registerTensor(id, tf.util.sizeFromShape(shape), memoryOffset);
  return { id, shape };
}

export function releaseView(backend: WasmBackend, view: TensorView): void {
  // Also drops any XNNPACK operator the C++ side cached for this id (packed weights).
  backend.wasm.tfjs.disposeData(view.id);
}

/** Int32 shape as the byte array the wasm C++ kernels take for 'array' arguments. */
export function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** Dispose intermediate TensorInfos made inside a kernel. */
export function disposeAll(backend: WasmBackend, ...infos: (TensorInfo | undefined)[]): void {
  for (const t of infos) if (t) backend.disposeData(t.dataId);
}

/**
 * tfjs-backend-wasm does not check malloc's result: when the wasm heap (wasm32: at most 4 GB) is full a
 * new tensor lands at offset 0. Before native code writes through an offset, refuse that.
 */
export function assertAllocated(backend: WasmBackend, t: TensorInfo, what: string): void {
  if (tf.util.sizeFromShape(t.shape) > 0 && tensorData(backend, t).memoryOffset === 0) {
    throw new Error(
      `wasm heap exhausted allocating ${what} [${t.shape.join(',')}] (wasm32 heaps stop at 4 GB): reduce the batch size or model width`,
    );
  }
}

/** Float32 outputs of the given shapes, each checked to be allocated (see assertAllocated). */
export function makeFloatOutputs(backend: WasmBackend, shapes: number[][], what: string): TensorInfo[] {
  return shapes.map((shape) => {
    const t = backend.makeOutput(shape, 'float32');
    assertAllocated(backend, t, what);
    return t;
  });
}
