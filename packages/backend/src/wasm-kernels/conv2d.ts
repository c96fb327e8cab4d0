// Conv2D gradients for wasm, both run through wasm's fast (XNNPACK) forward Conv2D:
//  - Conv2DBackpropInput (dx): tfjs-backend-wasm's own kernel runs at ~2-3 GFLOP/s. Here dy is
//    scattered into a zero buffer (stride-upsampled and padded), then a valid, stride-1 convolution
//    with the spatially flipped, in/out-swapped filter gives dx.
//  - Conv2DBackpropFilter (dW): missing from tfjs-backend-wasm. The filter gradient is itself a
//    convolution with the roles swapped: x as [C, H, W, N] (batch = input channels, channels = batch)
//    convolved with dy as a filter [OH, OW, N, O], dilated by the forward stride.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, disposeAll, f32, type WasmBackend } from './heap.js';
import { original, runWasmKernel, transpose } from './call.js';
import { applyEpilogue, supportedEpilogue } from './epilogue.js';
import { nativeConv } from './native-conv.js';
import { batchMatMulImpl } from './matmul.js';

type DataFormat = 'NHWC' | 'NCHW';
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function requireNHWC(kernel: string, dataFormat: DataFormat | undefined): void {
  if (dataFormat === 'NCHW') {
    throw new Error(`${kernel} on wasm supports dataFormat 'NHWC' (channelsLast) only; got 'NCHW'. Use channelsLast layers.`);
  }
}

export interface Conv2DGeometry {
  batch: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
}

export function conv2dGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): Conv2DGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  return {
    batch: info.batchSize,
    inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    kH: info.filterHeight, kW: info.filterWidth,
    strideH: info.strideHeight, strideW: info.strideWidth,
    dilationH: info.dilationHeight, dilationW: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/** dx for a conv2d of geometry g, from dy [N, OH, OW, O] and filter [KH, KW, C, O]. */
export function conv2dBackpropInputImpl(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: Conv2DGeometry): TensorInfo {
  const native = nativeConv();
  if (native) return native.backpropInput(backend, dy, filter, g);
  if ((g.strideH > 1 || g.strideW > 1) && g.dilationH === 1 && g.dilationW === 1) return conv2dBackpropInputPolyphase(backend, dy, filter, g);
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW } = g;
  // Upsampled, padded dy: P[n, oh*s + top, ow*s + left, :] = dy[n, oh, ow, :].
  const top = (kH - 1) * dilationH - g.padTop;
  const left = (kW - 1) * dilationW - g.padLeft;
  const pH = inH + (kH - 1) * dilationH;
  const pW = inW + (kW - 1) * dilationW;
  const padded = backend.makeOutput([batch, pH, pW, outC], 'float32');
  // Flipped filter: F[a, b, o, c] = W[KH-1-a, KW-1-b, c, o].
  const flipped = backend.makeOutput([kH, kW, outC, inC], 'float32');
  {
    const p = f32(backend, padded);
    const dyv = f32(backend, dy);
    p.fill(0);
    for (let n = 0; n < batch; n++) {
      for (let oh = 0; oh < outH; oh++) {
        const r = oh * strideH + top;
        if (r < 0 || r >= pH) continue;
        for (let ow = 0; ow < outW; ow++) {
          const c = ow * strideW + left;
          if (c < 0 || c >= pW) continue;
          const src = ((n * outH + oh) * outW + ow) * outC;
          p.set(dyv.subarray(src, src + outC), ((n * pH + r) * pW + c) * outC);
        }
      }
    }
    const w = f32(backend, filter);
    const fl = f32(backend, flipped);
    for (let a = 0; a < kH; a++) {
      for (let b = 0; b < kW; b++) {
        const srcTap = ((kH - 1 - a) * kW + (kW - 1 - b)) * inC * outC;
        const dstTap = (a * kW + b) * outC * inC;
        for (let ci = 0; ci < inC; ci++) {
          for (let o = 0; o < outC; o++) fl[dstTap + o * inC + ci] = w[srcTap + ci * outC + o]!;
        }
      }
    }
  }
  const dx = runWasmKernel('Conv2D', backend, { x: padded, filter: flipped }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [dilationH, dilationW], dimRoundingMode: undefined as unknown as string,
  });
  disposeAll(backend, padded, flipped);
  return dx;
}

/**
 * dW of a 1×1 conv (a ResNet shortcut) as one GEMM, x_sᵀ · dy with x_s the pixels the stride reads
 * ([N·OH·OW, C]): the swapped-convolution route below runs it as a conv whose filter is all of dy
 * (2 GFLOP/s on a stride-2 shortcut).
 */
function conv2dBackpropFilterPointwise(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: Conv2DGeometry): TensorInfo {
  const { batch, inH, inW, inC, outH, outW, outC, strideH, strideW } = g;
  const rows = batch * outH * outW;
  let xs: TensorInfo = { ...x, shape: [1, rows, inC] };
  let owned: TensorInfo | undefined;
  if (strideH > 1 || strideW > 1 || outH !== inH || outW !== inW) {
    owned = backend.makeOutput([1, rows, inC], 'float32');
    const src = f32(backend, x);
    const dst = f32(backend, owned);
    for (let n = 0; n < batch; n++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const from = ((n * inH + i * strideH) * inW + j * strideW) * inC;
          dst.set(src.subarray(from, from + inC), ((n * outH + i) * outW + j) * inC);
        }
      }
    }
    xs = owned;
  }
  const dw = batchMatMulImpl(backend, xs, { ...dy, shape: [1, rows, outC] }, true, false); // [1, C, O]
  disposeAll(backend, owned);
  return { ...dw, shape: [1, 1, inC, outC] };
}

/** Taps of a 1-D strided conv that reach the dx positions of one phase (position ≡ phase mod stride). */
function phaseTaps(phase: number, pad: number, k: number, stride: number, inSize: number) {
  const first = (phase + pad) % stride; // the first tap a ≡ phase + pad (mod stride)
  const taps = first < k ? Math.floor((k - 1 - first) / stride) + 1 : 0;
  const positions = phase < inSize ? Math.ceil((inSize - phase) / stride) : 0; // dx positions in this phase
  const q0 = (phase + pad - first) / stride; // dy index read by tap `first` at the phase's first position
  const before = taps - 1 - q0; // zero rows before dy (negative: dy rows cropped)
  const length = positions + taps - 1; // rows of the (padded/cropped) dy the phase's valid conv reads
  return { first, taps, positions, before, length };
}

/**
 * dx of a strided (dilation-1) conv as stride² stride-1 convolutions, one per output phase: the dx
 * positions ≡ (ph, pw) mod stride are reached by the taps ≡ (ph + padTop, pw + padLeft) mod stride only,
 * so each phase is a valid convolution of dy (padded or cropped) with those taps, flipped and transposed.
 * The zero-upsampling route computes stride² times as many products, most of them with zeros (stride 2:
 * 4.3 GFLOP/s against 16.5 for the forward conv on a ResNet shape).
 */
function conv2dBackpropInputPolyphase(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: Conv2DGeometry): TensorInfo {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW } = g;
  const dx = backend.makeOutput([batch, inH, inW, inC], 'float32');
  f32(backend, dx).fill(0);
  for (let ph = 0; ph < strideH; ph++) {
    const rows = phaseTaps(ph, g.padTop, kH, strideH, inH);
    if (rows.taps === 0 || rows.positions === 0) continue;
    for (let pw = 0; pw < strideW; pw++) {
      const cols = phaseTaps(pw, g.padLeft, kW, strideW, inW);
      if (cols.taps === 0 || cols.positions === 0) continue;
      // P[n, y, x, :] = dy[n, y - before, x - before, :] (0 outside dy).
      const padded = backend.makeOutput([batch, rows.length, cols.length, outC], 'float32');
      // F[t, u, o, c] = W[first + s·(taps − 1 − t), ...][c, o]: the phase's taps, flipped, in/out swapped.
      const sub = backend.makeOutput([rows.taps, cols.taps, outC, inC], 'float32');
      {
        const p = f32(backend, padded);
        const d = f32(backend, dy);
        p.fill(0);
        for (let n = 0; n < batch; n++) {
          for (let y = 0; y < rows.length; y++) {
            const oh = y - rows.before;
            if (oh < 0 || oh >= outH) continue;
            const x0 = Math.max(0, cols.before), x1 = Math.min(cols.length, outW + cols.before);
            if (x1 <= x0) continue;
            const src = ((n * outH + oh) * outW + (x0 - cols.before)) * outC;
            p.set(d.subarray(src, src + (x1 - x0) * outC), ((n * rows.length + y) * cols.length + x0) * outC);
          }
        }
        const w = f32(backend, filter);
        const f = f32(backend, sub);
        for (let t = 0; t < rows.taps; t++) {
          const a = rows.first + strideH * (rows.taps - 1 - t);
          for (let u = 0; u < cols.taps; u++) {
            const b = cols.first + strideW * (cols.taps - 1 - u);
            const srcTap = (a * kW + b) * inC * outC;
            const dstTap = (t * cols.taps + u) * outC * inC;
            for (let ci = 0; ci < inC; ci++) {
              for (let o = 0; o < outC; o++) f[dstTap + o * inC + ci] = w[srcTap + ci * outC + o]!;
            }
          }
        }
      }
      const part = runWasmKernel('Conv2D', backend, { x: padded, filter: sub }, {
        strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined as unknown as string,
      }); // [N, positions_h, positions_w, C]
      {
        const src = f32(backend, part);
        const dst = f32(backend, dx);
        for (let n = 0; n < batch; n++) {
          for (let i = 0; i < rows.positions; i++) {
            const r = ph + strideH * i;
            for (let j = 0; j < cols.positions; j++) {
              const from = ((n * rows.positions + i) * cols.positions + j) * inC;
              dst.set(src.subarray(from, from + inC), ((n * inH + r) * inW + pw + strideW * j) * inC);
            }
          }
        }
      }
      disposeAll(backend, padded, sub, part);
    }
  }
  return dx;
}

/** dW [KH, KW, C, O] for a conv2d of geometry g, from x [N, H, W, C] and dy [N, OH, OW, O]. */
export function conv2dBackpropFilterImpl(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: Conv2DGeometry): TensorInfo {
  const native = nativeConv();
  if (native) return native.backpropFilter(backend, x, dy, g);
  if (g.kH === 1 && g.kW === 1 && g.padTop === 0 && g.padLeft === 0) return conv2dBackpropFilterPointwise(backend, x, dy, g);
  const { inH, inW, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  // Output rows of the swapped convolution = kH exactly: choose the bottom/right padding for it;
  // when negative, the last input rows/cols are never read by the forward conv: crop them.
  const padBottom = (kH - 1) * dilationH + (outH - 1) * strideH + 1 - inH - padTop;
  const padRight = (kW - 1) * dilationW + (outW - 1) * strideW + 1 - inW - padLeft;
  let xUsed = x;
  let cropped: TensorInfo | undefined;
  if (padBottom < 0 || padRight < 0) {
    cropped = runWasmKernel('Slice', backend, { x }, {
      begin: [0, 0, 0, 0],
      size: [x.shape[0]!, inH + Math.min(0, padBottom), inW + Math.min(0, padRight), x.shape[3]!],
    });
    xUsed = cropped;
  }
  const xT = transpose(backend, xUsed, [3, 1, 2, 0]); // [C, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, O]
  const swapped = runWasmKernel('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [dilationH, dilationW],
    pad: [[0, 0], [padTop, Math.max(0, padBottom)], [padLeft, Math.max(0, padRight)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [strideH, strideW],
    dimRoundingMode: undefined as unknown as string,
  }); // [C, KH, KW, O]
  const dw = transpose(backend, swapped, [1, 2, 0, 3]);
  disposeAll(backend, cropped, xT, dyT, swapped);
  return dw;
}

const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: DataFormat; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  requireNHWC('Conv2DBackpropInput', dataFormat);
  const g = conv2dGeometry(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  return conv2dBackpropInputImpl(asWasmBackend(backend), dy, filter, g);
};

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: DataFormat; dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  requireNHWC('Conv2DBackpropFilter', dataFormat);
  const g = conv2dGeometry(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  return conv2dBackpropFilterImpl(asWasmBackend(backend), x, dy, g);
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};

// Forward Conv2D / FusedConv2D: the native addon when loaded (multi-threaded), else wasm's own kernel.
interface ConvForwardAttrs {
  strides: [number, number] | number; pad: Pad; dataFormat: DataFormat; dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil'; activation?: string; leakyreluAlpha?: number;
}

/**
 * tfjs-backend-wasm 4.22 passes 'same' padding to XNNPACK as its TF-SAME flag, which returns all zeros
 * for some shapes (e.g. x [2,9,10,C], filter 2x1, stride 2). The same padding spelt out explicitly is
 * computed correctly, so every forward conv goes through wasm with explicit pads.
 */
export function explicitPad(
  xShape: number[], filterShape: number[], attrs: ConvForwardAttrs, depthwise: boolean,
): Pad {
  if (attrs.pad !== 'same') return attrs.pad;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides, attrs.dilations ?? 1, 'same', attrs.dimRoundingMode, depthwise, 'channelsLast',
  );
  return [[0, 0], [info.padInfo.top, info.padInfo.bottom], [info.padInfo.left, info.padInfo.right], [0, 0]];
}

function convForward(kernelName: string, depthwise: boolean): KernelFunc {
  return (args) => {
    const native = depthwise ? undefined : nativeConv();
    const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const attrs = args.attrs as unknown as ConvForwardAttrs;
    const outC = filter.shape[3]!;
    if (!native || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || !supportedEpilogue(attrs.activation, bias, outC, preluActivationWeights)) {
      const fixedAttrs = attrs.dataFormat === 'NCHW' ? args.attrs : { ...args.attrs, pad: explicitPad(x.shape, filter.shape, attrs, depthwise) };
      return original(kernelName).kernelFunc({ ...args, attrs: fixedAttrs as typeof args.attrs });
    }
    const backend = asWasmBackend(args.backend);
    const g = conv2dGeometry(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
    const y = native.forward(backend, x, filter, g);
    applyEpilogue(backend, y, outC, bias, attrs.activation, attrs.leakyreluAlpha ?? 0.2);
    return y;
  };
}

export const conv2DForwardConfig: KernelConfig = { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc: convForward(tf.Conv2D, false) };
export const fusedConv2DForwardConfig: KernelConfig = { kernelName: tf.FusedConv2D, backendName: 'wasm', kernelFunc: convForward(tf.FusedConv2D, false) };
export const depthwiseForwardConfig: KernelConfig = { kernelName: tf.DepthwiseConv2dNative, backendName: 'wasm', kernelFunc: convForward(tf.DepthwiseConv2dNative, true) };
export const fusedDepthwiseForwardConfig: KernelConfig = { kernelName: tf.FusedDepthwiseConv2D, backendName: 'wasm', kernelFunc: convForward(tf.FusedDepthwiseConv2D, true) };
