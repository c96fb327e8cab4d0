// Wires the native addon into the wasm kernels: convolutions (forward and both gradients) and matmuls
// run in OpenBLAS on the wasm heap, in place. Toggle with setNativeKernels (the benchmark compares
// both paths in one process).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../native.js';
import { byteOffset, makeFloatOutputs, type WasmBackend } from './heap.js';
import { setNativeAddon } from './native-hook.js';
import { setNativeConv, type NativeConv } from './native-conv.js';
import type { Conv2DGeometry } from './conv2d.js';

function geometryArgs(g: Conv2DGeometry): [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number] {
  return [g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft];
}

function nativeConvFrom(addon: NativeAddon): NativeConv {
  // Allocate the output first: allocation may grow (and detach) the heap, so the buffer is read after.
  const run = (backend: WasmBackend, op: 0 | 1 | 2, in1: TensorInfo, in2: TensorInfo, outShape: number[], g: Conv2DGeometry): TensorInfo => {
    const [out] = makeFloatOutputs(backend, [outShape], 'a conv2d output') as [TensorInfo];
    addon.conv2d(backend.wasm.HEAPU8.buffer, op, ...geometryArgs(g), byteOffset(backend, in1), byteOffset(backend, in2), byteOffset(backend, out));
    return out;
  };
  return {
    forward: (backend, x, filter, g) => run(backend, 0, x, filter, [g.batch, g.outH, g.outW, g.outC], g),
    backpropInput: (backend, dy, filter, g) => run(backend, 1, dy, filter, [g.batch, g.inH, g.inW, g.inC], g),
    backpropFilter: (backend, x, dy, g) => run(backend, 2, x, dy, [g.kH, g.kW, g.inC, g.outC], g),
  };
}

/** Route the heavy wasm kernels through the native addon (or back to wasm with undefined). */
export function setNativeKernels(addon: NativeAddon | undefined): void {
  setNativeAddon(addon);
  setNativeConv(addon ? nativeConvFrom(addon) : undefined);
}
