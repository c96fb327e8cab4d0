// Hook for native (BLAS) convolution gradients; installed by the native addon loader when present.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './heap.js';
import type { Conv2DGeometry } from './conv2d.js';

export interface NativeConv {
  forward(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, g: Conv2DGeometry): TensorInfo;
  backpropInput(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: Conv2DGeometry): TensorInfo;
  backpropFilter(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: Conv2DGeometry): TensorInfo;
}

let impl: NativeConv | undefined;

export function setNativeConv(c: NativeConv | undefined): void {
  impl = c;
}

export function nativeConv(): NativeConv | undefined {
  return impl;
}
