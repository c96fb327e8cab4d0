// Bias + activation applied in place on the heap after a native GEMM/conv (what wasm's fused
// kernels do inside XNNPACK). Only the activations below; others fall back to the wasm kernel.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackend } from './heap.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'leakyrelu';

export function supportedEpilogue(activation: string | undefined, bias: TensorInfo | undefined, channels: number, prelu: TensorInfo | undefined): boolean {
  if (prelu) return false;
  if (activation !== undefined && activation !== 'linear' && activation !== 'relu' && activation !== 'relu6' && activation !== 'leakyrelu') return false;
  if (bias && bias.dtype !== 'float32') return false;
  const biasSize = bias ? bias.shape.reduce((a, b) => a * b, 1) : 0;
  return !bias || biasSize === channels || biasSize === 1;
}

export function applyEpilogue(backend: WasmBackend, out: TensorInfo, channels: number, bias: TensorInfo | undefined, activation: string | undefined, alpha: number): void {
  const y = f32(backend, out);
  if (bias) {
    const b = f32(backend, bias);
    if (b.length === 1) {
      const v = b[0]!;
      for (let i = 0; i < y.length; i++) y[i] = y[i]! + v;
    } else {
      for (let i = 0; i < y.length; i += channels) for (let c = 0; c < channels; c++) y[i + c] = y[i + c]! + b[c]!;
    }
  }
  switch (activation) {
    case 'relu':
      for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = 0;
      break;
    case 'relu6':
      for (let i = 0; i < y.length; i++) y[i] = Math.min(6, Math.max(0, y[i]!));
      break;
    case 'leakyrelu':
      for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = y[i]! * alpha;
      break;
    default:
      break;
  }
}
