// Building blocks for this package's WGSL kernels, run through tfjs-backend-webgpu's program machinery
// (its pipeline cache, uniforms, command batching, and this package's limit checks and error naming).
// A tf.js program has one output, so a kernel with several outputs runs several programs.
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

type WebGPUProgram = Parameters<WebGPUBackend['runWebGPUProgram']>[0];
type ProgramUniform = NonNullable<Parameters<WebGPUBackend['runWebGPUProgram']>[3]>;

/** Threads of a workgroup that reduces one row or one channel (a power of two). */
export const REDUCE_THREADS = 256;

/** WGSL: `fn reduceSumK(v : f32) -> f32`, the workgroup's sum, over its own shared array `partialK`. */
function reduceFunction(k: number): string {
  return `
      var<workgroup> partial${k} : array<f32, ${REDUCE_THREADS}>;
      fn reduceSum${k}(v : f32) -> f32 {
        partial${k}[localIndex] = v;
        workgroupBarrier();
        for (var s = ${REDUCE_THREADS / 2}u; s > 0u; s = s >> 1u) {
          if (localIndex < s) {
            partial${k}[localIndex] = partial${k}[localIndex] + partial${k}[localIndex + s];
          }
          workgroupBarrier();
        }
        return partial${k}[0];
      }`;
}

/**
 * One workgroup per output slot (`count` of them: rows or channels), for reductions. WGSL sees
 * `slot()` (the workgroup's linear index, whatever shape the dispatch was reshaped to), `localIndex`,
 * and `reduceSum0(v)`, `reduceSum1(v)`, which every thread must call (they have barriers) and which return
 * the workgroup's sum. Each has its own shared array, so no thread can overwrite a sum another is still
 * reading: a trailing barrier did not prevent that on llvmpipe (OpenGL ES), where the second of two sums
 * through one array came out wrong.
 */
export function perSlotProgram(key: string, variableNames: string[], outputShape: number[], count: number, uniforms: string, main: string): WebGPUProgram {
  return {
    shaderKey: key,
    variableNames,
    outputShape,
    uniforms,
    workgroupSize: [REDUCE_THREADS, 1, 1],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [count, 1, 1],
    getUserCode: () => `
      fn slot() -> i32 {
        return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
      }
      ${reduceFunction(0)}
      ${reduceFunction(1)}
      fn main(unusedIndex : i32) {
        ${main}
      }`,
  };
}

/** One thread per output element; WGSL's `main` body sees `index` (guarded by `index < uniforms.size`). */
export function elementwiseProgram(key: string, variableNames: string[], outputShape: number[], uniforms: string, body: string): WebGPUProgram {
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const size = tf.util.sizeFromShape(outputShape);
  return {
    shaderKey: key,
    variableNames,
    outputShape,
    uniforms,
    size: true,
    workgroupSize,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / workgroupSize[0]), 1, 1],
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

export function run(backend: WebGPUBackend, program: WebGPUProgram, inputs: TensorInfo[], uniforms: ProgramUniform, dtype: DataType = 'float32'): TensorInfo {
  return backend.runWebGPUProgram(program, inputs, dtype, uniforms);
}

/** The same data seen with another shape (no copy: tf.js' own reshape does this). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** Row `row` of a [rows, n] tensor as a new [n] tensor (a tiny copy by tfjs-backend-webgpu's Slice). */
export function sliceRow(backend: WebGPUBackend, t: TensorInfo, row: number): TensorInfo {
  const n = t.shape[1]!;
  const out = callKernel(backend, 'Slice', { x: t }, { begin: [row, 0], size: [1, n] });
  return view(out, [n]);
}

/** Column `col` of a [rows, n] tensor as a new [rows] tensor. */
export function sliceColumn(backend: WebGPUBackend, t: TensorInfo, col: number): TensorInfo {
  const rows = t.shape[0]!;
  const out = callKernel(backend, 'Slice', { x: t }, { begin: [0, col], size: [rows, 1] });
  return view(out, [rows]);
}

export function callKernel(backend: WebGPUBackend, name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const config = tf.getKernel(name, 'webgpu');
  if (!config) throw new Error(`webgpu kernel ${name} is not registered`);
  const out = config.kernelFunc({ inputs, attrs, backend: backend as unknown as tf.KernelBackend });
  return Array.isArray(out) ? out[0]! : out;
}

export function dispose(backend: WebGPUBackend, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

export const i32 = (value: number) => ({ type: 'int32', data: [value] });
export const f32 = (value: number) => ({ type: 'float32', data: [value] });
