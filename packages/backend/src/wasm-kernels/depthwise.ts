// Depthwise conv gradients for wasm (both missing from tfjs-backend-wasm 4.22). Direct loops: a
// depthwise conv does C*M multiply-adds per tap, not C*O, so these are cheap next to dense convs.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, f32, type WasmBackend } from './heap.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface DepthwiseAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function geometry(xShape: number[], filterShape: number[], attrs: DepthwiseAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true /* depthwise */, 'channelsLast',
  );
}

/** Visit every (input pixel, output pixel, tap) triple of a depthwise conv. */
function forEachTap(
  info: tf.backend_util.Conv2DInfo,
  visit: (xBase: number, yBase: number, wBase: number) => void,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const mult = info.outChannels / inChannels;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const yBase = ((n * outHeight + oh) * outWidth + ow) * inChannels * mult;
        for (let a = 0; a < filterHeight; a++) {
          const r = oh * info.strideHeight - info.padInfo.top + a * info.dilationHeight;
          if (r < 0 || r >= inHeight) continue;
          for (let b = 0; b < filterWidth; b++) {
            const c = ow * info.strideWidth - info.padInfo.left + b * info.dilationWidth;
            if (c < 0 || c >= inWidth) continue;
            visit(((n * inHeight + r) * inWidth + c) * inChannels, yBase, (a * filterWidth + b) * inChannels * mult);
          }
        }
      }
    }
  }
}

function backpropInput(wasm: WasmBackend, dy: TensorInfo, filter: TensorInfo, inputShape: number[], attrs: DepthwiseAttrs): TensorInfo {
  const info = geometry(inputShape, filter.shape, attrs);
  const mult = info.outChannels / info.inChannels;
  const C = info.inChannels;
  const dx = wasm.makeOutput(inputShape, 'float32');
  const out = f32(wasm, dx);
  const g = f32(wasm, dy);
  const w = f32(wasm, filter);
  out.fill(0);
  forEachTap(info, (xBase, yBase, wBase) => {
    for (let ch = 0; ch < C; ch++) {
      let s = 0;
      for (let m = 0; m < mult; m++) s += g[yBase + ch * mult + m]! * w[wBase + ch * mult + m]!;
      out[xBase + ch] = out[xBase + ch]! + s;
    }
  });
  return dx;
}

function backpropFilter(wasm: WasmBackend, x: TensorInfo, dy: TensorInfo, filterShape: number[], attrs: DepthwiseAttrs): TensorInfo {
  const info = geometry(x.shape, filterShape, attrs);
  const mult = info.outChannels / info.inChannels;
  const C = info.inChannels;
  const dw = wasm.makeOutput(filterShape, 'float32');
  const out = f32(wasm, dw);
  const g = f32(wasm, dy);
  const xv = f32(wasm, x);
  out.fill(0);
  forEachTap(info, (xBase, yBase, wBase) => {
    for (let ch = 0; ch < C; ch++) {
      const xval = xv[xBase + ch]!;
      for (let m = 0; m < mult; m++) out[wBase + ch * mult + m] = out[wBase + ch * mult + m]! + xval * g[yBase + ch * mult + m]!;
    }
  });
  return dw;
}

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { inputShape: number[] };
  return backpropInput(asWasmBackend(backend), dy, filter, a.inputShape, a);
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { filterShape: number[] };
  return backpropFilter(asWasmBackend(backend), x, dy, a.filterShape, a);
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput,
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};
