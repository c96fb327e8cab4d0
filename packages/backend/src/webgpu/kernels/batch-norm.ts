// @sparse-ift/core's fused training batch norm (+ residual add + ReLU) in WGSL: x seen as [rows, channels]
// (channels last). Forward: per-channel mean and biased variance (two passes over x in one workgroup per
// channel, so no cancellation), then y in one elementwise pass. Backward: per-channel Σg and Σg·x̂
// (g = dy through the ReLU), then dx in one pass; dresidual is g.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormRows, type BatchNormTrainAttrs } from '@sparse-ift/core';
import { REDUCE_THREADS, callKernel, dispose, elementwiseProgram, f32, i32, perSlotProgram, run, sliceRow, view } from './program.js';

const SHAPE_UNIFORMS = 'rows : i32, channels : i32,';

/** moments [2, C]: row 0 the means, row 1 the biased variances. */
function moments(backend: WebGPUBackend, x: TensorInfo, rows: number, channels: number): TensorInfo {
  const program = perSlotProgram('sparseIftBnMoments', ['x'], [2, channels], channels, SHAPE_UNIFORMS, `
    let c = slot();
    let valid = c < uniforms.channels;
    var s = 0.0;
    if (valid) {
      for (var r = i32(localIndex); r < uniforms.rows; r = r + ${REDUCE_THREADS}) { s = s + x[r * uniforms.channels + c]; }
    }
    let mean = reduceSum0(s) / f32(uniforms.rows);
    var q = 0.0;
    if (valid) {
      for (var r = i32(localIndex); r < uniforms.rows; r = r + ${REDUCE_THREADS}) {
        let d = x[r * uniforms.channels + c] - mean;
        q = q + d * d;
      }
    }
    let variance = reduceSum1(q) / f32(uniforms.rows);
    if (valid && localIndex == 0u) {
      result[c] = mean;
      result[uniforms.channels + c] = variance;
    }`);
  return run(backend, program, [view(x, [rows, channels])], [i32(rows), i32(channels)]);
}

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { x, gamma, beta, residual } = inputs as Record<string, TensorInfo | undefined> as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; residual?: TensorInfo };
  const a = attrs as unknown as BatchNormTrainAttrs;
  const { rows, channels } = batchNormRows(x);
  const m = moments(backend, x, rows, channels);
  const names = ['x', 'moments', 'gamma', 'beta', ...(residual ? ['residual'] : [])];
  const program = elementwiseProgram(`sparseIftBnApply_${residual ? 'res' : ''}${a.relu ? 'relu' : ''}`, names, [rows, channels], `${SHAPE_UNIFORMS} epsilon : f32,`, `
    let c = index % uniforms.channels;
    let scale = gamma[c] / sqrt(moments[uniforms.channels + c] + uniforms.epsilon);
    var v = (x[index] - moments[c]) * scale + beta[c];
    ${residual ? 'v = v + residual[index];' : ''}
    ${a.relu ? 'v = max(v, 0.0);' : ''}
    result[index] = v;`);
  const flat = (t: TensorInfo) => view(t, [rows, channels]);
  const y = run(backend, program, [flat(x), m, gamma, beta, ...(residual ? [flat(residual)] : [])], [i32(rows), i32(channels), f32(a.epsilon)]);
  const mean = sliceRow(backend, m, 0);
  const variance = sliceRow(backend, m, 1);
  dispose(backend, m);
  return [view(y, x.shape), mean, variance];
};

/** g = dy, or dy where y > 0 under a ReLU. */
const gradientIn = (relu: boolean) => (relu ? 'select(0.0, dy[i], y[i] > 0.0)' : 'dy[i]');

const backward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { dy, x, gamma, mean, variance, y } = inputs as Record<string, TensorInfo>;
  const a = attrs as unknown as BatchNormTrainAttrs;
  const { rows, channels } = batchNormRows(x!);
  const flat = (t: TensorInfo) => view(t, [rows, channels]);
  const withY = a.relu ? ['y'] : [];
  const tensors = (t: TensorInfo[]) => [...t, ...(a.relu ? [flat(y!)] : [])];
  // sums [2, C]: row 0 Σg (dβ), row 1 Σg·x̂ (dγ).
  const sumsProgram = perSlotProgram(`sparseIftBnGradSums_${a.relu ? 'relu' : ''}`, ['dy', 'x', 'mean', 'variance', ...withY], [2, channels], channels, `${SHAPE_UNIFORMS} epsilon : f32,`, `
    let c = slot();
    let valid = c < uniforms.channels;
    var sb = 0.0;
    var sg = 0.0;
    if (valid) {
      let m = mean[c];
      let inv = 1.0 / sqrt(variance[c] + uniforms.epsilon);
      for (var r = i32(localIndex); r < uniforms.rows; r = r + ${REDUCE_THREADS}) {
        let i = r * uniforms.channels + c;
        let g = ${gradientIn(a.relu)};
        sb = sb + g;
        sg = sg + g * (x[i] - m) * inv;
      }
    }
    let dbeta = reduceSum0(sb);
    let dgamma = reduceSum1(sg);
    if (valid && localIndex == 0u) {
      result[c] = dbeta;
      result[uniforms.channels + c] = dgamma;
    }`);
  const uniforms = [i32(rows), i32(channels), f32(a.epsilon)];
  const sums = run(backend, sumsProgram, tensors([flat(dy!), flat(x!), mean!, variance!]), uniforms);
  const dxProgram = elementwiseProgram(`sparseIftBnGradDx_${a.relu ? 'relu' : ''}`, ['dy', 'x', 'gamma', 'mean', 'variance', 'sums', ...withY], [rows, channels], `${SHAPE_UNIFORMS} epsilon : f32,`, `
    let i = index;
    let c = index % uniforms.channels;
    let inv = 1.0 / sqrt(variance[c] + uniforms.epsilon);
    let n = f32(uniforms.rows);
    let g = ${gradientIn(a.relu)};
    result[i] = gamma[c] * inv * (g - sums[c] / n - (x[i] - mean[c]) * inv * (sums[uniforms.channels + c] / n));`);
  const dx = run(backend, dxProgram, tensors([flat(dy!), flat(x!), gamma!, mean!, variance!, sums]), uniforms);
  const dbeta = sliceRow(backend, sums, 0);
  const dgamma = sliceRow(backend, sums, 1);
  dispose(backend, sums);
  const outs = [view(dx, x!.shape), dgamma, dbeta];
  if (a.residual) {
    if (a.relu) {
      const maskProgram = elementwiseProgram('sparseIftReluMask', ['dy', 'y'], [rows, channels], '', `let i = index; result[i] = ${gradientIn(true)};`);
      outs.push(view(run(backend, maskProgram, [flat(dy!), flat(y!)], []), x!.shape));
    } else {
      outs.push(callKernel(backend, 'Identity', { x: dy! }, {}));
    }
  }
  return outs;
};

export const batchNormTrainWebGPUConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN, backendName: 'webgpu', kernelFunc: forward };
export const batchNormTrainGradWebGPUConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'webgpu', kernelFunc: backward };
