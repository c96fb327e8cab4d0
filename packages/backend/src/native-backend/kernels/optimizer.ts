// @sparse-ift/core's fused optimizer updates (SGD, AdamW) on the addon: one OpenMP pass reads the weight,
// gradient and slots and writes their new values, where the composed ops make 5–11 passes. A false
// `onlyIf` gate (read here: the tensors are in host memory) returns the inputs themselves, shared.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ADAMW_UPDATE, SGD_UPDATE, type AdamWUpdateAttrs, type SgdUpdateAttrs } from '@sparse-ift/core';
import { decline, type NativeKernel, type NativeKernelOutput } from '../kernel.js';
import type { NativeBackend } from '../backend.js';
import { f32, output, typed } from './tensors.js';

/**
 * The float32 values of the named inputs (absent optional ones as null), their outputs allocated, or the
 * inputs themselves (shared) when the gate is false; a string says why the kernel cannot run.
 */
function prepare(
  backend: NativeBackend, kernel: string, inputs: Record<string, TensorInfo | undefined>, names: readonly string[],
): { values: (Float32Array | null)[]; outputs: ({ info: TensorInfo; values: Float32Array } | null)[] } | TensorInfo[] | string {
  const gate = inputs['onlyIf'];
  if (gate) {
    const open = typed(backend, gate, kernel);
    if (!(open instanceof Uint8Array) || open.length !== 1) return 'onlyIf is not a bool scalar';
    if (open[0] === 0) {
      const present = names.filter((name) => name !== 'g').map((name) => inputs[name]).filter((t): t is TensorInfo => t !== undefined);
      for (const t of present) backend.incRef(t.dataId);
      return present.map((t) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
    }
  }
  const w = inputs['w']!;
  const values: (Float32Array | null)[] = [];
  for (const name of names) {
    const t = inputs[name];
    if (!t) {
      values.push(null);
      continue;
    }
    const v = f32(backend, t, kernel);
    if (!v) return `${name} is not float32`;
    if (v.length !== f32(backend, w, kernel)?.length) return `${name} has ${v.length} values, w ${w.shape.join('x')}`;
    values.push(v);
  }
  const outputs = names.filter((name) => name !== 'g').map((name) => (inputs[name] ? output(backend, w.shape, 'float32', 'any') : null));
  return { values, outputs };
}

function result(outputs: ({ info: TensorInfo } | null)[]): NativeKernelOutput {
  return outputs.filter((o): o is { info: TensorInfo } => o !== null).map((o) => o.info);
}

const sgdUpdate: NativeKernel = {
  kernelName: SGD_UPDATE,
  run: ({ inputs, attrs, backend, addon }) => {
    if (typeof addon.tensors.sgdUpdate !== 'function') return decline('the addon was built without sgdUpdate (rebuild it: npm run build:native -w @sparse-ift/backend)');
    const p = prepare(backend, SGD_UPDATE, inputs, ['w', 'g', 'momentum']);
    if (typeof p === 'string') return decline(p);
    if (Array.isArray(p)) return p;
    const a = attrs as unknown as SgdUpdateAttrs;
    const [w, g, b] = p.values;
    const [wOut, bOut] = p.outputs;
    addon.tensors.sgdUpdate(w!, g!, b ?? null, wOut!.values, bOut?.values ?? null, a.learningRate, a.momentum, a.dampening, a.nesterov, a.weightDecay, a.firstStep);
    return result(p.outputs);
  },
};

const adamWUpdate: NativeKernel = {
  kernelName: ADAMW_UPDATE,
  run: ({ inputs, attrs, backend, addon }) => {
    if (typeof addon.tensors.adamWUpdate !== 'function') return decline('the addon was built without adamWUpdate (rebuild it: npm run build:native -w @sparse-ift/backend)');
    const p = prepare(backend, ADAMW_UPDATE, inputs, ['w', 'g', 'expAvg', 'expAvgSq', 'maxExpAvgSq']);
    if (typeof p === 'string') return decline(p);
    if (Array.isArray(p)) return p;
    const a = attrs as unknown as AdamWUpdateAttrs;
    const [w, g, m, v, vMax] = p.values;
    const [wOut, mOut, vOut, vMaxOut] = p.outputs;
    addon.tensors.adamWUpdate(w!, g!, m!, v!, vMax ?? null, wOut!.values, mOut!.values, vOut!.values, vMaxOut?.values ?? null,
      a.decayFactor, a.beta1, a.beta2, a.epsilon, a.stepSize, a.biasCorrection2Sqrt);
    return result(p.outputs);
  },
};

export const OPTIMIZER_KERNELS: NativeKernel[] = [sgdUpdate, adamWUpdate];
