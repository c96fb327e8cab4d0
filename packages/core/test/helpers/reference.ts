/**
 * Plain-JS reference implementations (no tf.js ops) that the layer tests compare against:
 * dense and NHWC conv2d with TensorFlow's padding rules, and helpers to read tensors.
 */
export interface Array4 {
  shape: [number, number, number, number];
  data: Float32Array | number[];
}

/** y[b, o] = Σ_i x[b, i] · w[i, o] + bias[o]; x is [B, Din], w [Din, Dout] row-major. */
export function denseReference(
  x: ArrayLike<number>,
  batch: number,
  w: ArrayLike<number>,
  din: number,
  dout: number,
  bias?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(batch * dout);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < dout; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let i = 0; i < din; i++) acc += x[b * din + i]! * w[i * dout + o]!;
      y[b * dout + o] = acc;
    }
  }
  return y;
}

/**
 * TensorFlow conv2d, NHWC input [B,H,W,Cin], kernel [kh,kw,Cin,Cout]. 'same': out = ceil(H/s),
 * total padding max((out−1)·s + (k−1)·d + 1 − H, 0), the smaller half on top/left.
 * 'valid': out = ceil((H − (k−1)·d) / s), no padding.
 */
export function conv2dReference(
  x: ArrayLike<number>,
  xShape: [number, number, number, number],
  w: ArrayLike<number>,
  wShape: [number, number, number, number],
  strides: [number, number],
  padding: 'same' | 'valid',
  dilation: [number, number] = [1, 1],
  bias?: ArrayLike<number>,
): { data: Float64Array; shape: [number, number, number, number] } {
  const [B, H, W, Cin] = xShape;
  const [kh, kw, wcin, Cout] = wShape;
  if (wcin !== Cin) throw new Error('channel mismatch');
  const outSize = (n: number, k: number, s: number, d: number) =>
    padding === 'same' ? Math.ceil(n / s) : Math.ceil((n - (k - 1) * d) / s);
  const Ho = outSize(H, kh, strides[0], dilation[0]);
  const Wo = outSize(W, kw, strides[1], dilation[1]);
  const padTotal = (n: number, o: number, k: number, s: number, d: number) =>
    padding === 'same' ? Math.max((o - 1) * s + (k - 1) * d + 1 - n, 0) : 0;
  const padTop = Math.floor(padTotal(H, Ho, kh, strides[0], dilation[0]) / 2);
  const padLeft = Math.floor(padTotal(W, Wo, kw, strides[1], dilation[1]) / 2);
  const y = new Float64Array(B * Ho * Wo * Cout);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let co = 0; co < Cout; co++) {
          let acc = bias ? bias[co]! : 0;
          for (let i = 0; i < kh; i++) {
            const ih = oh * strides[0] + i * dilation[0] - padTop;
            if (ih < 0 || ih >= H) continue;
            for (let j = 0; j < kw; j++) {
              const iw = ow * strides[1] + j * dilation[1] - padLeft;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < Cin; ci++) {
                acc += x[((b * H + ih) * W + iw) * Cin + ci]! * w[((i * kw + j) * Cin + ci) * Cout + co]!;
              }
            }
          }
          y[((b * Ho + oh) * Wo + ow) * Cout + co] = acc;
        }
  return { data: y, shape: [B, Ho, Wo, Cout] };
}

export function elementwiseProduct(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
}

export function addArrays(...arrays: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(arrays[0]!.length);
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i]!;
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
