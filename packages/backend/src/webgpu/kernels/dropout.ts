// @sparse-ift/core's dropout in WGSL: one thread per block of four elements draws Philox 4x32-10 for
// counter (block, step, micro-batch, call) and the key, and keeps element 4·block + j when word j is at
// least the threshold. The same 16-bit-split products as core's JavaScript reference, so both draw the
// same bits. Forward and gradient are the same kernel (dropout is linear; the gradient replays the mask).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { DROPOUT, PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1, dropoutScale, dropoutThreshold, type DropoutAttrs } from '@sparse-ift/core';
import { f32, run, view } from './program.js';

const hex = (v: number) => `0x${v.toString(16)}u`;

/** WGSL: `philox(counter, key) -> vec4<u32>`, Philox 4x32-10. */
export const PHILOX_WGSL = `
  fn mulhilo(a : u32, b : u32) -> vec2<u32> {
    let aLo = a & 0xffffu;
    let aHi = a >> 16u;
    let bLo = b & 0xffffu;
    let bHi = b >> 16u;
    let hiLo = aHi * bLo;
    let cross = ((aLo * bLo) >> 16u) + (hiLo & 0xffffu) + aLo * bHi;
    return vec2<u32>(aHi * bHi + (hiLo >> 16u) + (cross >> 16u), a * b);
  }
  fn philox(counter : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var r = 0; r < ${PHILOX_ROUNDS}; r = r + 1) {
      let p0 = mulhilo(${hex(PHILOX_M0)}, c.x);
      let p1 = mulhilo(${hex(PHILOX_M1)}, c.z);
      c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
      k = k + vec2<u32>(${hex(PHILOX_W0)}, ${hex(PHILOX_W1)});
    }
    return c;
  }`;

const u32 = (value: number) => ({ type: 'uint32', data: [value >>> 0] });

const dropout: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { x } = inputs as { x: TensorInfo };
  const { rate, key, counter } = attrs as unknown as DropoutAttrs;
  const n = x.shape.reduce((a, d) => a * d, 1);
  const blocks = Math.ceil(n / 4);
  const workgroup = 64;
  const program = {
    shaderKey: 'sparseIftDropout',
    variableNames: ['x'],
    outputShape: [n],
    uniforms: 'key0 : u32, key1 : u32, counter1 : u32, counter2 : u32, counter3 : u32, threshold : u32, scale : f32,',
    size: true,
    workgroupSize: [workgroup, 1, 1] as [number, number, number],
    dispatchLayout: { x: [0] },
    dispatch: [Math.max(1, Math.ceil(blocks / workgroup)), 1, 1] as [number, number, number],
    getUserCode: () => `
      ${PHILOX_WGSL}
      fn keep(i : i32, word : u32) {
        if (i < uniforms.size) {
          result[i] = select(0.0, x[i] * uniforms.scale, word >= uniforms.threshold);
        }
      }
      fn main(index : i32) {
        let base = index * 4;
        if (base < uniforms.size) {
          let w = philox(vec4<u32>(u32(index), uniforms.counter1, uniforms.counter2, uniforms.counter3), vec2<u32>(uniforms.key0, uniforms.key1));
          keep(base, w.x);
          keep(base + 1, w.y);
          keep(base + 2, w.z);
          keep(base + 3, w.w);
        }
      }`,
  };
  const uniforms = [u32(key[0]), u32(key[1]), u32(counter[0]), u32(counter[1]), u32(counter[2]), u32(dropoutThreshold(rate)), f32(dropoutScale(rate))];
  const y = run(backend, program, [view(x, [n])], uniforms);
  return view(y, x.shape);
};

export const dropoutWebGPUConfig: KernelConfig = { kernelName: DROPOUT, backendName: 'webgpu', kernelFunc: dropout };
