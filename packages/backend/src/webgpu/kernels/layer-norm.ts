// @sparse-ift/core's fused LayerNorm in WGSL: x seen as [rows, size] (normalised over the last axis).
// Forward: one workgroup per row computes its mean and 1/sqrt(var + ε) (two passes, contiguous reads),
// then y in one elementwise pass. Backward: one workgroup per row for dx; one per column for dγ, dβ.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { LAYER_NORM, LAYER_NORM_GRAD, type LayerNormAttrs } from '@sparse-ift/core';
import { REDUCE_THREADS, dispose, elementwiseProgram, f32, i32, perSlotProgram, run, sliceColumn, sliceRow, view } from './program.js';

const SHAPE_UNIFORMS = 'rows : i32, width : i32,';

function rowsOf(x: TensorInfo): { rows: number; size: number } {
  const size = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.slice(0, -1).reduce((a, b) => a * b, 1), size };
}

const forward: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const { epsilon } = attrs as unknown as LayerNormAttrs;
  const { rows, size } = rowsOf(x!);
  const flat = view(x!, [rows, size]);
  const uniforms = [i32(rows), i32(size), f32(epsilon)];
  // stats [rows, 2]: mean, 1/sqrt(var + ε).
  const statsProgram = perSlotProgram('sparseIftLnStats', ['x'], [rows, 2], rows, `${SHAPE_UNIFORMS} epsilon : f32,`, `
    let r = slot();
    let valid = r < uniforms.rows;
    let o = r * uniforms.width;
    var s = 0.0;
    if (valid) {
      for (var j = i32(localIndex); j < uniforms.width; j = j + ${REDUCE_THREADS}) { s = s + x[o + j]; }
    }
    let mean = reduceSum0(s) / f32(uniforms.width);
    var q = 0.0;
    if (valid) {
      for (var j = i32(localIndex); j < uniforms.width; j = j + ${REDUCE_THREADS}) {
        let d = x[o + j] - mean;
        q = q + d * d;
      }
    }
    let rstd = 1.0 / sqrt(reduceSum1(q) / f32(uniforms.width) + uniforms.epsilon);
    if (valid && localIndex == 0u) {
      result[2 * r] = mean;
      result[2 * r + 1] = rstd;
    }`);
  const stats = run(backend, statsProgram, [flat], uniforms);
  const applyProgram = elementwiseProgram('sparseIftLnApply', ['x', 'stats', 'gamma', 'beta'], [rows, size], SHAPE_UNIFORMS, `
    let r = index / uniforms.width;
    let j = index % uniforms.width;
    result[index] = (x[index] - stats[2 * r]) * stats[2 * r + 1] * gamma[j] + beta[j];`);
  const y = run(backend, applyProgram, [flat, stats, gamma!, beta!], [i32(rows), i32(size)]);
  const mean = sliceColumn(backend, stats, 0);
  const rstd = sliceColumn(backend, stats, 1);
  dispose(backend, stats);
  return [view(y, x!.shape), mean, rstd];
};

const backward: KernelFunc = ({ inputs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { dy, x, gamma, mean, rstd } = inputs as Record<string, TensorInfo>;
  const { rows, size } = rowsOf(x!);
  const flat = (t: TensorInfo) => view(t, [rows, size]);
  const uniforms = [i32(rows), i32(size)];
  // dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · γ, per row.
  const dxProgram = perSlotProgram('sparseIftLnGradDx', ['dy', 'x', 'gamma', 'mean', 'rstd'], [rows, size], rows, SHAPE_UNIFORMS, `
    let r = slot();
    let valid = r < uniforms.rows;
    let o = r * uniforms.width;
    var m = 0.0;
    var inv = 0.0;
    var sg = 0.0;
    var sgx = 0.0;
    if (valid) {
      m = mean[r];
      inv = rstd[r];
      for (var j = i32(localIndex); j < uniforms.width; j = j + ${REDUCE_THREADS}) {
        let g = dy[o + j] * gamma[j];
        sg = sg + g;
        sgx = sgx + g * (x[o + j] - m) * inv;
      }
    }
    let n = f32(uniforms.width);
    let meanG = reduceSum0(sg) / n;
    let meanGx = reduceSum1(sgx) / n;
    if (valid) {
      for (var j = i32(localIndex); j < uniforms.width; j = j + ${REDUCE_THREADS}) {
        let xh = (x[o + j] - m) * inv;
        result[o + j] = inv * (dy[o + j] * gamma[j] - meanG - xh * meanGx);
      }
    }`);
  const dx = run(backend, dxProgram, [flat(dy!), flat(x!), gamma!, mean!, rstd!], uniforms);
  // params [2, size]: row 0 dγ = Σ_rows dy·x̂, row 1 dβ = Σ_rows dy, one workgroup per column.
  const paramsProgram = perSlotProgram('sparseIftLnGradParams', ['dy', 'x', 'mean', 'rstd'], [2, size], size, SHAPE_UNIFORMS, `
    let j = slot();
    let valid = j < uniforms.width;
    var sg = 0.0;
    var sb = 0.0;
    if (valid) {
      for (var r = i32(localIndex); r < uniforms.rows; r = r + ${REDUCE_THREADS}) {
        let i = r * uniforms.width + j;
        sg = sg + dy[i] * (x[i] - mean[r]) * rstd[r];
        sb = sb + dy[i];
      }
    }
    let dgamma = reduceSum0(sg);
    let dbeta = reduceSum1(sb);
    if (valid && localIndex == 0u) {
      result[j] = dgamma;
      result[uniforms.width + j] = dbeta;
    }`);
  const params = run(backend, paramsProgram, [flat(dy!), flat(x!), mean!, rstd!], uniforms);
  const dgamma = sliceRow(backend, params, 0);
  const dbeta = sliceRow(backend, params, 1);
  dispose(backend, params);
  return [view(dx, x!.shape), dgamma, dbeta];
};

export const layerNormWebGPUConfig: KernelConfig = { kernelName: LAYER_NORM, backendName: 'webgpu', kernelFunc: forward };
export const layerNormGradWebGPUConfig: KernelConfig = { kernelName: LAYER_NORM_GRAD, backendName: 'webgpu', kernelFunc: backward };
