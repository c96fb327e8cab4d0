// Pooling gradients for wasm.
// - MaxPoolGrad: tfjs-backend-wasm 4.22's kernel routes dy wrongly when a window's maximum is negative.
//   This one routes each window's dy to the first position of the window's maximum, skipping padding,
//   as the cpu backend does.
// - AvgPoolGrad: with 'same' padding the forward pass (wasm, cpu) averages over the valid pixels of a
//   border window only, but tf.js's gradients (wasm and cpu) divide by the full window size. This one
//   divides by the same count the forward used.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, f32 } from './heap.js';

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number; strides: [number, number] | number;
    pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const dx = wasm.makeOutput(input.shape, 'float32');
  const out = f32(wasm, dx);
  const x = f32(wasm, input);
  const g = f32(wasm, dy);
  out.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - info.padInfo.top;
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - info.padInfo.left;
        const gBase = ((n * outHeight + oh) * outWidth + ow) * channels;
        for (let ch = 0; ch < channels; ch++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let a = 0; a < fh; a += dh) {
            const r = r0 + a;
            if (r < 0 || r >= inHeight) continue;
            for (let b = 0; b < fw; b += dw) {
              const c = c0 + b;
              if (c < 0 || c >= inWidth) continue;
              const i = ((n * inHeight + r) * inWidth + c) * channels + ch;
              const v = x[i]!;
              if (v > best || bestIndex < 0) {
                best = v;
                bestIndex = i;
              }
            }
          }
          if (bestIndex >= 0) out[bestIndex] = out[bestIndex]! + g[gBase + ch]!;
        }
      }
    }
  }
  return dx;
};

export const maxPoolGradConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx of an average pool whose windows average over their valid (unpadded) pixels only. */
function avgPoolGradInto(out: Float32Array, g: Float32Array, inputShape: number[], attrs: PoolAttrs): void {
  const info = tf.backend_util.computePool2DInfo(inputShape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  out.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - info.padInfo.top;
      const rLo = Math.max(0, r0);
      const rHi = Math.min(inHeight, r0 + fh);
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - info.padInfo.left;
        const cLo = Math.max(0, c0);
        const cHi = Math.min(inWidth, c0 + fw);
        const count = (rHi - rLo) * (cHi - cLo);
        if (count <= 0) continue;
        const gBase = ((n * outHeight + oh) * outWidth + ow) * channels;
        for (let r = rLo; r < rHi; r++) {
          for (let c = cLo; c < cHi; c++) {
            const xBase = ((n * inHeight + r) * inWidth + c) * channels;
            for (let ch = 0; ch < channels; ch++) out[xBase + ch] = out[xBase + ch]! + g[gBase + ch]! / count;
          }
        }
      }
    }
  }
}

const avgPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const dx = wasm.makeOutput(input.shape, 'float32');
  avgPoolGradInto(f32(wasm, dx), f32(wasm, dy), input.shape, attrs as unknown as PoolAttrs);
  return dx;
};

interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The same fix for the cpu backend (whose AvgPoolGrad has the same border bug). */
export const avgPoolGradCpuConfig: KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackend;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const out = new Float32Array(tf.util.sizeFromShape(input.shape));
    avgPoolGradInto(out, cpu.data.get(dy.dataId).values as Float32Array, input.shape, attrs as unknown as PoolAttrs);
    return cpu.makeTensorInfo(input.shape, 'float32', out);
  },
};

export const avgPoolGradConfig: KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: 'wasm',
  kernelFunc: avgPoolGrad,
};
