// How a native kernel is declared: a function that either returns its outputs or declines (with a
// reason) so that tfjs-backend-cpu's JS kernel runs instead, on the same data. Every call is counted in
// the backend's provenance.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { NATIVE_BACKEND_NAME, type NativeBackend } from './backend.js';
import type { KernelProvenance, KernelRoute } from './provenance.js';
import type { NativeAddon } from '../native.js';

/** Returned by a native kernel that leaves this input to the JS kernel. */
export class Decline {
  constructor(readonly reason: string) {}
}

export function decline(reason: string): Decline {
  return new Decline(reason);
}

/** Returned by a kernel whose output shares its input's data (a relabelling: counted as `shared`). */
export class Shared {
  constructor(readonly info: TensorInfo) {}
}

/** The input's data under a new shape/dtype, reference-counted (tf.js data is immutable). */
export function share(backend: NativeBackend, x: TensorInfo, shape = x.shape, dtype = x.dtype): Shared {
  backend.incRef(x.dataId);
  return new Shared({ dataId: x.dataId, shape, dtype });
}

export interface NativeKernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs: NamedAttrMap;
  backend: NativeBackend;
  addon: NativeAddon;
}

export type NativeKernelOutput = TensorInfo | TensorInfo[] | Decline | Shared;

export interface NativeKernel {
  kernelName: string;
  /** `shared` for kernels that only relabel their input's data. */
  route?: Exclude<KernelRoute, 'fallback'>;
  run: (args: NativeKernelArgs) => NativeKernelOutput;
}

export interface KernelContext {
  addon: NativeAddon;
  provenance: KernelProvenance;
}

function now(mode: 'wall' | 'cpu'): number {
  if (mode === 'wall') return performance.now();
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

function timed(kernelName: string, ctx: KernelContext, f: KernelFunc): KernelFunc {
  return (args) => {
    const mode = ctx.provenance.timing;
    if (!mode) return f(args);
    const t0 = now(mode);
    try {
      return f(args);
    } finally {
      ctx.provenance.addTime(kernelName, now(mode) - t0);
    }
  };
}

/** tfjs-backend-cpu's kernel for `kernelName`, counted as a fallback (reason: no native kernel). */
export function fallbackConfig(cpu: KernelConfig, ctx: KernelContext): KernelConfig {
  const f = cpu.kernelFunc;
  return {
    ...cpu,
    backendName: NATIVE_BACKEND_NAME,
    kernelFunc: timed(cpu.kernelName, ctx, (args) => {
      ctx.provenance.record(cpu.kernelName, 'fallback', 'no native kernel');
      return f(args);
    }),
  };
}

/** A native kernel, declining to tfjs-backend-cpu's kernel of the same name (when there is one). */
export function nativeConfig(kernel: NativeKernel, ctx: KernelContext): KernelConfig {
  const cpu = tf.getKernel(kernel.kernelName, 'cpu');
  const route = kernel.route ?? 'native';
  return {
    kernelName: kernel.kernelName,
    backendName: NATIVE_BACKEND_NAME,
    kernelFunc: timed(kernel.kernelName, ctx, (args) => {
      const backend = args.backend as unknown as NativeBackend;
      const out = kernel.run({ inputs: args.inputs as Record<string, TensorInfo | undefined>, attrs: args.attrs ?? {}, backend, addon: ctx.addon });
      if (out instanceof Shared) {
        ctx.provenance.record(kernel.kernelName, 'shared');
        return out.info;
      }
      if (!(out instanceof Decline)) {
        ctx.provenance.record(kernel.kernelName, route);
        return out;
      }
      if (!cpu) {
        throw new Error(`native backend ${kernel.kernelName}: ${out.reason}, and tfjs-backend-cpu has no such kernel to fall back on`);
      }
      ctx.provenance.record(kernel.kernelName, 'fallback', out.reason);
      return cpu.kernelFunc(args);
    }),
  };
}
