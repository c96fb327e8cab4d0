// The webgpu backend (Dawn + tfjs-backend-webgpu + this package's WGSL kernels) on whatever adapter starts
// here (in CI: the software OpenGL ES one tools/setup.sh installs): core's fused ops against the same ops
// composed from stock tf.js ops on cpu and against finite differences; synchronous reads; the adapter
// report; errors that name the op (limits, shader errors); auto never choosing a software adapter; and a
// process that used webgpu exiting by itself.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { batchNormTrain, gelu, hasFusedBatchNorm, hasFusedGelu, hasFusedLayerNorm, layerNorm } from '@sparse-ift/core';
import { describeBackend, initBackend, registerWebGPUKernel, WebGPUError, type BackendInfo } from '@sparse-ift/backend';
import { checkGradients, randn, rng, useBackend, webgpuUnavailable, type Input } from './helpers.js';

let skip: string | undefined;
let info: BackendInfo | undefined;

beforeAll(async () => {
  skip = await webgpuUnavailable();
  if (skip) console.warn(`webgpu tests skipped: ${skip}`);
  else info = await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
});

/** A test that needs an adapter; skipped (with the reason printed once) where none starts. */
const gpuIt = (name: string, fn: () => Promise<void>) => it(name, async (ctx) => {
  if (skip) ctx.skip();
  await fn();
});

describe('webgpu: fused WGSL kernels vs composed tf.js ops on cpu, and finite differences', () => {
  gpuIt('the webgpu backend has the fused kernels', async () => {
    await useBackend('webgpu');
    expect([hasFusedBatchNorm(), hasFusedLayerNorm(), hasFusedGelu()]).toEqual([true, true, true]);
  });

  // Shapes past one workgroup's 256 threads in each reduced dimension (rows for batch norm and the
  // layer-norm parameter gradients, the normalised width for layer norm), odd sizes, every relu/residual
  // combination.
  const bnCases: [number[], boolean, boolean][] = [
    [[2, 5, 5, 3], false, false],
    [[3, 7, 13, 5], true, false],
    [[2, 9, 9, 4], true, true],
    [[300, 7], false, true],
    [[1, 1], true, false],
  ];
  bnCases.forEach(([shape, relu, residual], i) => {
    const name = `batchNormTrain x[${shape.join(',')}] relu=${relu} residual=${residual}`;
    gpuIt(name, async () => {
      const rr = rng(300 + i);
      const size = tf.util.sizeFromShape(shape);
      const c = shape[shape.length - 1]!;
      const inputs: Input[] = [{ shape, values: randn(rr, size) }, { shape: [c], values: randn(rr, c) }, { shape: [c], values: randn(rr, c) }];
      if (residual) inputs.push({ shape, values: randn(rr, size) });
      await checkGradients(name, (x, g, b, res) => batchNormTrain(x, g, b, { epsilon: 1e-3, relu, residual: res }).y, inputs, {
        eps: 1e-3, fdRtol: 2e-2, seed: i, backend: 'webgpu',
      });
    });
  });

  gpuIt('batchNormTrain returns the batch mean and biased variance', async () => {
    await useBackend('webgpu');
    const { mean, variance } = batchNormTrain(tf.tensor2d([[1, -2], [3, 4], [5, 0]]), tf.ones([2]), tf.zeros([2]));
    const m = mean.dataSync();
    expect(m[0]).toBeCloseTo(3, 6);
    expect(m[1]).toBeCloseTo(2 / 3, 6);
    const v = variance.dataSync();
    expect(v[0]).toBeCloseTo(8 / 3, 5);
    expect(v[1]).toBeCloseTo(((-2 - 2 / 3) ** 2 + (4 - 2 / 3) ** 2 + (2 / 3) ** 2) / 3, 5);
  });

  const lnShapes = [[2, 3, 33], [2, 300], [600, 5], [1, 1]];
  lnShapes.forEach((shape, i) => {
    const name = `layerNorm x[${shape.join(',')}]`;
    gpuIt(name, async () => {
      const rr = rng(400 + i);
      const d = shape[shape.length - 1]!;
      await checkGradients(name, (x, g, b) => layerNorm(x, g, b, 1e-5), [
        { shape, values: randn(rr, tf.util.sizeFromShape(shape)) },
        { shape: [d], values: randn(rr, d) },
        { shape: [d], values: randn(rr, d) },
      ], { eps: 1e-3, fdRtol: 2e-2, seed: i, backend: 'webgpu' });
    });
  });

  for (const approximate of ['erf', 'tanh'] as const) {
    gpuIt(`gelu '${approximate}' over [-6, 6], large |x| and random values`, async () => {
      const rr = rng(approximate === 'erf' ? 15 : 16);
      const values = new Float32Array(101);
      for (let j = 0; j < values.length; j++) values[j] = j < 49 ? -6 + j * 0.25 : j < 53 ? [-40, -20, 20, 40][j - 49]! : 3 * randn(rr, 1)[0]!;
      await checkGradients(`gelu ${approximate}`, (x) => gelu(x, approximate), [{ shape: [101], values }], { eps: 1e-3, fdRtol: 1e-2, backend: 'webgpu' });
    });
  }
});

describe('webgpu: reads, adapter report, errors', () => {
  gpuIt('dataSync of a tensor computed on the GPU equals the asynchronous read, and both are right', async () => {
    await useBackend('webgpu');
    const x = tf.range(0, 5000);
    const y = tf.mul(tf.add(x, 1), 2); // computed by a shader, so it lives in a GPU buffer
    const sync = Float32Array.from(y.dataSync());
    const asyncRead = await y.data();
    expect(Array.from(sync)).toEqual(Array.from(asyncRead));
    for (const i of [0, 1, 2499, 4999]) expect(sync[i]).toBe(2 * (i + 1));
    expect(tf.sum(y).dataSync()[0]).toBe(5000 * 5001); // Σ 2(i+1) for i < 5000, exact in float32
  });

  gpuIt('addN of more tensors than a shader may bind sums them in chunks (the stock kernel fails validation)', async () => {
    await useBackend('webgpu');
    const n = info!.adapter!.limits.maxStorageBuffersPerShaderStage * 2 + 3;
    const xs = Array.from({ length: n }, (_, i) => tf.mul(tf.ones([5]), i + 1)); // computed: GPU buffers
    expect(Array.from(tf.addN(xs).dataSync())).toEqual(Array(5).fill((n * (n + 1)) / 2));
  });

  gpuIt('the adapter is reported (vendor, architecture, limits; software named as such) in the backend line', async () => {
    const a = info!.adapter!;
    expect(info!.name).toBe('webgpu');
    expect(typeof a.vendor).toBe('string');
    expect(typeof a.architecture).toBe('string');
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(a.limits.maxBufferSize).toBeGreaterThanOrEqual(a.limits.maxStorageBufferBindingSize);
    const line = describeBackend(info!);
    expect(line).toContain('adapter:');
    expect(line).toContain('maxStorageBufferBindingSize');
    if (a.software) expect(line).toContain('software adapter');
    // What a results file stores: the JSON of BackendInfo.
    expect(JSON.parse(JSON.stringify(info)).adapter.limits.maxStorageBufferBindingSize).toBe(a.limits.maxStorageBufferBindingSize);
  });

  gpuIt('a tensor over maxStorageBufferBindingSize is an error naming the op and the limit (not a silent wrong sum)', async (ctx) => {
    await useBackend('webgpu');
    const limit = info!.adapter!.limits.maxStorageBufferBindingSize;
    if (limit > 512 * 2 ** 20) ctx.skip(); // would need GBs of host memory here
    const n = limit / 4 + 1024;
    expect(() => tf.sum(tf.fill([n], 1)).dataSync()).toThrow(/webgpu: Fill: output \[\d+\] float32 is \d+ bytes .* over this adapter's maxStorageBufferBindingSize/);
    const big = tf.tensor1d(new Float32Array(n).fill(1)); // uploaded, not computed: fails at its first use
    expect(() => tf.sum(tf.add(big, 1)).dataSync()).toThrow(/webgpu: Add: input 'A' .* maxStorageBufferBindingSize/);
    big.dispose();
    // The backend still works afterwards.
    expect(tf.sum(tf.ones([10])).dataSync()[0]).toBe(10);
  });

  gpuIt('auto never trains on a software adapter', async () => {
    if (!info!.adapter!.software) return; // a GPU here: auto may take it
    const chosen = await initBackend({ backend: 'auto', training: true, useNative: false });
    expect(chosen.name).not.toBe('webgpu');
    await useBackend('webgpu');
  });

  gpuIt('a process that trained on webgpu exits by itself', async () => {
    // The built package (CI builds before testing), imported from this package's folder.
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { initBackend } from './dist/index.js';
      await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
      const w = tf.variable(tf.ones([8, 4]));
      tf.train.sgd(0.1).minimize(() => tf.sum(tf.square(tf.matMul(tf.ones([2, 8]), w))));
      console.log('sum', tf.sum(w).dataSync()[0]);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(out).toMatch(/sum -?\d/);
  });
  // Last: after a GPU error the device is dropped and a new one started.
  gpuIt('a GPU validation error (a shader that does not compile) is thrown naming the kernel; later calls refuse until a restart', async () => {
    await useBackend('webgpu');
    const badShader: KernelFunc = ({ inputs, backend }) => {
      const x = (inputs as { x: TensorInfo }).x;
      const program = {
        shaderKey: 'sparseIftTestBadShader', variableNames: ['x'], outputShape: x.shape, workgroupSize: [64, 1, 1] as [number, number, number],
        dispatchLayout: { x: [0] }, dispatch: [1, 1, 1] as [number, number, number], size: true,
        getUserCode: () => 'fn main(index : i32) { result[index] = undefinedName; }',
      };
      return (backend as unknown as WebGPUBackend).runWebGPUProgram(program, [x], 'float32');
    };
    registerWebGPUKernel({ kernelName: 'SparseIftTestBadShader', backendName: 'webgpu', kernelFunc: badShader });
    let thrown: unknown;
    try {
      tf.engine().runKernel('SparseIftTestBadShader', { x: tf.ones([4]) }, {});
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WebGPUError);
    expect((thrown as WebGPUError).op).toBe('SparseIftTestBadShader');
    expect((thrown as Error).message).toMatch(/validation error/);
    expect(() => tf.sum(tf.ones([3])).dataSync()).toThrow(/earlier GPU error/);
    await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
    expect(tf.sum(tf.ones([3])).dataSync()[0]).toBe(3);
  });
});
