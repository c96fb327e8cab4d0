// tfjs-backend-webgpu on Dawn in Node, made safe to train on:
// - `dataSync()` works (a synchronous map of a staging buffer, see dawn.ts), so code written for the
//   CPU backends runs unchanged (each such read waits for the GPU: keep them off the step path);
// - a tensor larger than the adapter's maxStorageBufferBindingSize (or a buffer over maxBufferSize) is an
//   error naming the op, the shape and the limit, before anything is dispatched: WebGPU would reject the
//   binding, and the dropped command buffer would leave silently wrong results;
// - every other GPU error (validation, out of memory, device lost) becomes an exception naming the op
//   that was running, instead of a line Dawn prints and a result computed without it.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataType, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { waitForDawn } from './dawn.js';
import { adapterName, type WebGPUAdapterReport } from './adapter.js';

type WebGPUProgram = Parameters<WebGPUBackend['runWebGPUProgram']>[0];
type ProgramUniform = Parameters<WebGPUBackend['runWebGPUProgram']>[3];

/** The kernel being run (innermost last), so errors can name the op. */
const opStack: string[] = [];

export function currentOp(): string {
  return opStack[opStack.length - 1] ?? '(outside any op)';
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${bytes} bytes (${(bytes / MiB).toFixed(1)} MiB)`;

/** Thrown for any GPU-side failure; `op` is the tf.js kernel that was running. */
export class WebGPUError extends Error {
  constructor(readonly op: string, message: string) {
    super(`webgpu: ${op}: ${message}`);
    this.name = 'WebGPUError';
  }
}

export interface SparseIftWebGPUBackend extends WebGPUBackend {
  readonly adapterReport: WebGPUAdapterReport;
  /**
   * Throws the GPU errors recorded since the last check, naming `op`. After one, the device's batched work
   * is unreliable (WebGPU drops a command buffer that holds an invalid command, with the valid work
   * batched beside it), so every later call throws too: start the backend again.
   */
  throwPendingError(op: string): void;
  /** The first GPU error, once one was thrown. */
  readonly failure: string | undefined;
}

function bytesPerElement(dtype: DataType): number {
  return dtype === 'complex64' ? 8 : 4;
}

/** The subclass is made at run time: tfjs-backend-webgpu is imported only when the backend is asked for. */
export type SparseIftWebGPUBackendClass = new (device: GPUDevice, adapterInfo: GPUAdapterInfo, report: WebGPUAdapterReport) => SparseIftWebGPUBackend;

export function makeBackendClass(Base: typeof WebGPUBackend): SparseIftWebGPUBackendClass {
  return class SparseIftWebGPU extends Base implements SparseIftWebGPUBackend {
    readonly adapterReport: WebGPUAdapterReport;
    private readonly pendingErrors: string[] = [];
    private destroying = false;
    failure: string | undefined;

    constructor(device: GPUDevice, adapterInfo: GPUAdapterInfo, report: WebGPUAdapterReport) {
      super(device, adapterInfo);
      this.adapterReport = report;
      device.addEventListener('uncapturederror', (event) => {
        // Dawn prints uncaptured errors unless the event is cancelled: they are thrown instead.
        event.preventDefault();
        const e = (event as GPUUncapturedErrorEvent).error;
        const kind = e.constructor?.name === 'GPUOutOfMemoryError' ? 'out of GPU memory' : e.constructor?.name === 'GPUValidationError' ? 'validation error' : 'GPU error';
        this.pendingErrors.push(`${kind} in ${currentOp()}: ${e.message.split('\n')[0]}`);
      });
      void device.lost.then((info) => {
        if (!this.destroying) this.pendingErrors.push(`device lost (${info.reason}): ${info.message}`);
      });
      const limit = report.limits.maxBufferSize;
      const manager = this.bufferManager;
      const acquire = manager.acquireBuffer.bind(manager);
      manager.acquireBuffer = (size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean) => {
        if (size > limit) {
          throw new WebGPUError(currentOp(), `needs a ${mib(size)} buffer, over this adapter's maxBufferSize of ${mib(limit)} (${adapterName(report)}). Use smaller shapes (batch, width, sequence) or a GPU with larger limits.`);
        }
        return acquire(size, usage, mappedAtCreation, reuse);
      };
    }

    throwPendingError(op: string): void {
      if (this.failure) {
        throw new WebGPUError(op, `an earlier GPU error left this device's results undefined (${this.failure}); start the backend again (initBackend) or the process`);
      }
      if (this.pendingErrors.length === 0) return;
      const errors = this.pendingErrors.splice(0);
      this.failure = `${op}: ${errors[0]}`;
      // The open command buffer holds the invalid command: drop it rather than submit it.
      Object.assign(this, { computePassEncoder: null, commandEncoder: null, dispatchCountInPass: 0 });
      throw new WebGPUError(op, errors.join('; ') + (errors.length > 1 ? ` (${errors.length} errors)` : ''));
    }

    override runWebGPUProgram(program: WebGPUProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms?: ProgramUniform, output?: TensorInfo): TensorInfo {
      const limit = this.adapterReport.limits.maxStorageBufferBindingSize;
      const check = (t: { shape: number[]; dtype: DataType }, role: string) => {
        const bytes = tf.util.sizeFromShape(t.shape) * bytesPerElement(t.dtype);
        if (bytes > limit) {
          throw new WebGPUError(
            currentOp(),
            `${role} [${t.shape.join(', ')}] ${t.dtype} is ${mib(bytes)}, over this adapter's maxStorageBufferBindingSize of ${mib(limit)} ` +
              `(${adapterName(this.adapterReport)}; program ${program.constructor.name}). WebGPU cannot bind it; use smaller shapes ` +
              '(batch, width, sequence, vocabulary) or a GPU with larger limits.',
          );
        }
      };
      const buffers = this.device.limits.maxStorageBuffersPerShaderStage;
      if (inputs.length + 1 > buffers) {
        throw new WebGPUError(currentOp(), `program ${program.constructor.name} binds ${inputs.length + 1} storage buffers, over this adapter's maxStorageBuffersPerShaderStage of ${buffers} (${adapterName(this.adapterReport)})`);
      }
      inputs.forEach((t, i) => check(t, `input '${program.variableNames[i] ?? i}'`));
      check(output ?? { shape: program.outputShape, dtype: outputDtype }, 'output');
      return super.runWebGPUProgram(program, inputs, outputDtype, uniforms, output);
    }

    override readSync(dataId: object): BackendValues {
      const data = this.tensorMap.get(dataId);
      if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64' || !(data.resource instanceof GPUBuffer)) {
        return super.readSync(dataId);
      }
      const op = `dataSync of a [${data.shape.join(', ')}] ${data.dtype} tensor`;
      this.throwPendingError(op);
      const source = data.resource;
      const size = source.size;
      const staging = this.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
      this.ensureCommandEncoderReady();
      this.endComputePassEncoder();
      // ensureCommandEncoderReady made it: the encoder is private in the typings only.
      (this as unknown as { commandEncoder: GPUCommandEncoder }).commandEncoder.copyBufferToBuffer(source, 0, staging, 0, size);
      this.submitQueue();
      let failure: unknown;
      staging.mapAsync(GPUMapMode.READ).catch((e: unknown) => {
        failure = e;
      });
      waitForDawn(() => staging.mapState !== 'pending' || failure !== undefined, op);
      this.throwPendingError(op);
      if (staging.mapState !== 'mapped') throw new WebGPUError(op, `mapping the staging buffer failed (${String(failure ?? staging.mapState)})`);
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      this.bufferManager.releaseBuffer(staging);
      const values = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype);
      data.values = values;
      return values;
    }

    override async read(dataId: object): Promise<BackendValues> {
      const op = 'data() read';
      this.throwPendingError(op);
      const values = await super.read(dataId);
      this.throwPendingError(op);
      return values;
    }

    override dispose(): void {
      super.dispose();
      this.destroying = true;
      this.device.destroy();
    }
  };
}

/** Wraps a webgpu kernel so errors name it and GPU errors raised while it ran are thrown from it. */
export function namedKernel(config: KernelConfig): KernelConfig {
  const { kernelName, kernelFunc } = config;
  return {
    ...config,
    kernelFunc: (args) => {
      const backend = args.backend as unknown as SparseIftWebGPUBackend;
      // Kernels called from inside another leave the checks to the outermost one.
      const outermost = opStack.length === 0;
      if (outermost) backend.throwPendingError(kernelName);
      opStack.push(kernelName);
      try {
        const out = kernelFunc(args);
        if (outermost) backend.throwPendingError(kernelName);
        return out;
      } catch (e) {
        if (e instanceof WebGPUError || !(e instanceof Error) || e.message.startsWith(`webgpu: ${kernelName}`)) throw e;
        throw new WebGPUError(kernelName, e.message);
      } finally {
        opStack.pop();
      }
    },
  };
}

const wrapped = new WeakSet<KernelConfig['kernelFunc']>();

function wrap(config: KernelConfig): KernelConfig {
  if (wrapped.has(config.kernelFunc)) return config;
  const named = namedKernel(config);
  wrapped.add(named.kernelFunc);
  return named;
}

/** Wrap every kernel registered for 'webgpu' (idempotent: call again after registering more). */
export function nameWebGPUKernels(): void {
  for (const config of tf.getKernelsForBackend('webgpu')) {
    if (wrapped.has(config.kernelFunc)) continue;
    tf.unregisterKernel(config.kernelName, 'webgpu');
    tf.registerKernel(wrap(config));
  }
}

/**
 * Register (or replace) a kernel for 'webgpu', wrapped so that its errors, and GPU errors raised while it
 * runs, are thrown naming it. Use this for any webgpu kernel added outside this package.
 */
export function registerWebGPUKernel(config: KernelConfig): void {
  if (config.backendName !== 'webgpu') throw new Error(`registerWebGPUKernel: ${config.kernelName} is for '${config.backendName}', not 'webgpu'`);
  if (tf.getKernel(config.kernelName, 'webgpu')) tf.unregisterKernel(config.kernelName, 'webgpu');
  tf.registerKernel(wrap(config));
}
