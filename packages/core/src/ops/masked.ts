/**
 * Masked products, y = conv2d(x, kernel ⊙ mask) and y = x · (kernel ⊙ mask), as ops of their own with their
 * own gradient: dx through kernel ⊙ mask, dkernel = (dense dkernel) ⊙ mask, and no gradient to the mask
 * (docs/sparse-training.md#training-step).
 *
 * Why: tf.js' Conv2DBackpropFilter gets x, dy and only the filter's shape, so a backend cannot know which
 * weights are masked; nor may it guess from zeros in the kernel, because RigL's regrown weights start at
 * exactly 0 and still need their gradient. With the mask an input, a backend may register the kernels
 * below and compute at the mask's non-zeros only (`@sparse-ift/backend` does on its `native` backend).
 * Elsewhere the ops are the composed tf.js ops the layers always ran, with the same values and gradients.
 * When the trainer opens the masks (all ones) for RigL's dense gradient, dkernel is the dense gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** Kernel: inputs {x, kernel, mask}, attrs MaskedConv2DAttrs, output y (NHWC). */
export const MASKED_CONV2D = 'SparseIftMaskedConv2D';
/** Kernel: inputs {dy, x, kernel, mask}, same attrs, outputs [dx, dkernel] (dkernel zero off the mask). */
export const MASKED_CONV2D_GRAD = 'SparseIftMaskedConv2DGrad';
/** Kernel: inputs {x [m, k], kernel [k, n], mask [k, n]}, output y [m, n]. */
export const MASKED_MATMUL = 'SparseIftMaskedMatMul';
/** Kernel: inputs {dy, x, kernel, mask}, outputs [dx, dkernel] (dkernel zero off the mask). */
export const MASKED_MATMUL_GRAD = 'SparseIftMaskedMatMulGrad';

type Pair = [number, number];

export interface MaskedConv2DAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations: [number, number];
}

function hasKernels(forward: string, grad: string, backendName: string): boolean {
  return tf.getKernel(forward, backendName) != null && tf.getKernel(grad, backendName) != null;
}

/** Whether `backendName` runs masked products with kernels of its own (else: the composed ops). */
export function hasMaskedKernels(backendName = tf.getBackend()): boolean {
  return hasKernels(MASKED_CONV2D, MASKED_CONV2D_GRAD, backendName) && hasKernels(MASKED_MATMUL, MASKED_MATMUL_GRAD, backendName);
}

function pair(v: number | Pair, what: string): Pair {
  const p: Pair = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((e) => Number.isInteger(e) && e > 0)) throw new RangeError(`maskedConv2d: ${what} must be positive integers, got ${JSON.stringify(v)}`);
  return p;
}

function checkMask(op: string, kernel: Tensor, mask: Tensor): void {
  if (!tf.util.arraysEqual(kernel.shape, mask.shape)) {
    throw new Error(`${op}: mask shape [${mask.shape.join(',')}] differs from the kernel's [${kernel.shape.join(',')}]; pass the layer's own mask`);
  }
}

/** conv2d(x, kernel ⊙ mask): x NHWC [n, h, w, c], kernel and mask [kh, kw, c, o]. */
export function maskedConv2d(
  x: Tensor, kernel: Tensor, mask: Tensor, strides: number | Pair = 1, pad: 'same' | 'valid' = 'same', dilations: number | Pair = 1,
): Tensor {
  if (x.rank !== 4 || kernel.rank !== 4) throw new Error(`maskedConv2d: x and kernel must have rank 4 (NHWC, [kh, kw, c, o]), got ${x.rank} and ${kernel.rank}`);
  checkMask('maskedConv2d', kernel, mask);
  if (pad !== 'same' && pad !== 'valid') throw new Error(`maskedConv2d: pad must be 'same' or 'valid', got '${String(pad)}'`);
  const attrs: MaskedConv2DAttrs = { strides: pair(strides, 'strides'), pad, dilations: pair(dilations, 'dilations') };
  const floats = x.dtype === 'float32' && kernel.dtype === 'float32' && mask.dtype === 'float32';
  // tf.js has no dilated convolution gradient, so a backend kernel gets no dilated input either.
  const dilated = attrs.dilations[0] !== 1 || attrs.dilations[1] !== 1;
  if (!floats || dilated || !hasKernels(MASKED_CONV2D, MASKED_CONV2D_GRAD, tf.getBackend())) {
    return tf.conv2d(x as tf.Tensor4D, tf.mul(kernel, mask) as tf.Tensor4D, attrs.strides, pad, 'NHWC', attrs.dilations);
  }
  return tf.engine().runKernel(MASKED_CONV2D, { x, kernel, mask }, attrs as unknown as NamedAttrMap) as Tensor;
}

/** x · (kernel ⊙ mask): x [m, k], kernel and mask [k, n]. */
export function maskedMatMul(x: Tensor, kernel: Tensor, mask: Tensor): Tensor {
  if (x.rank !== 2 || kernel.rank !== 2) throw new Error(`maskedMatMul: x and kernel must have rank 2, got ${x.rank} and ${kernel.rank}`);
  checkMask('maskedMatMul', kernel, mask);
  if (x.shape[1] !== kernel.shape[0]) throw new Error(`maskedMatMul: x has ${x.shape[1]} columns, the kernel ${kernel.shape[0]} rows`);
  const floats = x.dtype === 'float32' && kernel.dtype === 'float32' && mask.dtype === 'float32';
  if (!floats || !hasKernels(MASKED_MATMUL, MASKED_MATMUL_GRAD, tf.getBackend())) {
    return tf.matMul(x as tf.Tensor2D, tf.mul(kernel, mask) as tf.Tensor2D);
  }
  return tf.engine().runKernel(MASKED_MATMUL, { x, kernel, mask }, {}) as Tensor;
}

let gradientsRegistered = false;

/**
 * Registers both kernels' gradients (all backends); done on import, idempotent. The gradient kernel gives
 * dx and dkernel from one sweep over dy (a sparse backend reads each dy element once for both).
 */
export function registerMaskedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  for (const [forward, grad] of [[MASKED_CONV2D, MASKED_CONV2D_GRAD], [MASKED_MATMUL, MASKED_MATMUL_GRAD]] as const) {
    tf.registerGradient({
      kernelName: forward,
      inputsToSave: ['x', 'kernel', 'mask'],
      gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
        const dy = Array.isArray(dys) ? dys[0]! : dys;
        const [x, kernel, mask] = saved as [Tensor, Tensor, Tensor];
        const [dx, dkernel] = tf.engine().runKernel(grad, { dy, x, kernel, mask }, attrs) as Tensor[];
        return { x: () => dx!, kernel: () => dkernel!, mask: () => tf.zerosLike(mask) };
      },
    });
  }
}

registerMaskedGradients();

type Shape4 = [number, number, number, number];

/** TF 'same' / 'valid' geometry of one axis: [out, padBefore]. */
function axis(size: number, k: number, stride: number, pad: 'same' | 'valid'): [number, number] {
  const out = pad === 'same' ? Math.ceil(size / stride) : Math.ceil((size - k + 1) / stride);
  return [out, pad === 'same' ? Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2) : 0];
}

/**
 * y = conv2d(x, w) (NHWC, w [kh, kw, c, o], no dilation) with float64 sums; given dy also dx and dw (dense),
 * all from one loop over the products x·w.
 */
function convLoop(x: ArrayLike<number>, xShape: Shape4, w: ArrayLike<number>, wShape: Shape4, attrs: MaskedConv2DAttrs, dy?: ArrayLike<number>) {
  const [B, H, W, C] = xShape;
  const [kh, kw, , O] = wShape;
  const [OH, pt] = axis(H, kh, attrs.strides[0], attrs.pad);
  const [OW, pl] = axis(W, kw, attrs.strides[1], attrs.pad);
  const y = new Float64Array(B * OH * OW * O);
  const dx = new Float64Array(dy ? x.length : 0);
  const dw = new Float64Array(dy ? w.length : 0);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let i = 0; i < kh; i++) {
          const ih = oh * attrs.strides[0] + i - pt;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * attrs.strides[1] + j - pl;
            if (iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) {
              const xi = ((b * H + ih) * W + iw) * C + c;
              for (let o = 0; o < O; o++) {
                const wi = ((i * kw + j) * C + c) * O + o;
                const yi = ((b * OH + oh) * OW + ow) * O + o;
                if (dy) {
                  dx[xi] += w[wi]! * dy[yi]!;
                  dw[wi] += x[xi]! * dy[yi]!;
                } else {
                  y[yi] += x[xi]! * w[wi]!;
                }
              }
            }
          }
        }
  return { y, dx, dw, yShape: [B, OH, OW, O] as Shape4 };
}

const product = (w: ArrayLike<number>, mask: ArrayLike<number>) => Float64Array.from(w, (v, i) => v * mask[i]!);

/**
 * Reference kernels on plain arrays (float64 sums, no dilation), for backends and tests: the masked conv's y,
 * and its gradient [dx, dkernel ⊙ mask]. A masked matmul x [m, k] · w [k, n] is the 1×1 conv of
 * x as [m, 1, 1, k] with w as [1, 1, k, n].
 */
export function maskedConv2dReference(
  x: ArrayLike<number>, xShape: Shape4, kernel: ArrayLike<number>, mask: ArrayLike<number>, kernelShape: Shape4, attrs: MaskedConv2DAttrs,
): { y: Float64Array; yShape: Shape4 } {
  const { y, yShape } = convLoop(x, xShape, product(kernel, mask), kernelShape, attrs);
  return { y, yShape };
}

export function maskedConv2dGradReference(
  dy: ArrayLike<number>, x: ArrayLike<number>, xShape: Shape4, kernel: ArrayLike<number>, mask: ArrayLike<number>, kernelShape: Shape4,
  attrs: MaskedConv2DAttrs,
): { dx: Float64Array; dkernel: Float64Array } {
  const { dx, dw } = convLoop(x, xShape, product(kernel, mask), kernelShape, attrs, dy);
  return { dx, dkernel: product(dw, mask) };
}
