// @sparse-ift/core's fused ops (training batch norm + residual + ReLU, layer norm, GELU) on the addon's
// OpenMP kernels.
import { FusedBatchNorm, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  DROPOUT,
  dropoutScale,
  dropoutThreshold,
  GELU,
  GELU_GRAD,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  type BatchNormTrainAttrs,
  type DropoutAttrs,
  type GeluAttrs,
  type LayerNormAttrs,
} from '@sparse-ift/core';
import { decline, type NativeKernel } from '../kernel.js';
import type { NativeBackend } from '../backend.js';
import { chwnOf, chwnOutput, f32, output } from './tensors.js';
import { discard } from '../memory.js';
import type { NativeAddon } from '../../native.js';

/** The addon's batch norm over CHWN channel planes, when built with it. */
function planes(addon: NativeAddon): boolean {
  return typeof addon.tensors.batchNormForwardChwn === 'function';
}

/** CHWN values of each named input (scratch transposes where stored NHWC), or undefined for one that is not float32 [N, H, W, C]. */
function chwnInputs<K extends string>(backend: NativeBackend, kernel: string, inputs: Record<string, TensorInfo | undefined>, names: readonly K[]) {
  const out = {} as Record<K, Float32Array>;
  const scratch: Float32Array[] = [];
  for (const name of names) {
    const c = chwnOf(backend, inputs[name], kernel);
    if (!c) {
      scratch.forEach(discard);
      return undefined;
    }
    out[name] = c.values;
    if (c.scratch) scratch.push(c.values);
  }
  return { values: out, done: () => scratch.forEach(discard) };
}

/** Float32Array values of each input, or the name of the first that is not one. */
function floats<K extends string>(backend: NativeBackend, kernel: string, inputs: Record<string, TensorInfo | undefined>, names: readonly K[]): Record<K, Float32Array> | string {
  const out = {} as Record<K, Float32Array>;
  for (const name of names) {
    const v = f32(backend, inputs[name], kernel);
    if (!v) return `${name} is not float32`;
    out[name] = v;
  }
  return out;
}

const batchNormTrain: NativeKernel = {
  kernelName: BATCH_NORM_TRAIN,
  run: ({ inputs, attrs, backend, addon }) => {
    const a = attrs as unknown as BatchNormTrainAttrs;
    const x = inputs['x']!;
    // x stored CHWN (a sparse conv's output): normalise over channel planes, y stays CHWN.
    if (backend.chwnValues(x) && planes(addon)) {
      const p = floats(backend, BATCH_NORM_TRAIN, inputs, ['gamma', 'beta'] as const);
      const c = chwnInputs(backend, BATCH_NORM_TRAIN, inputs, inputs['residual'] ? ['x', 'residual'] as const : ['x'] as const);
      if (typeof p !== 'string' && c) {
        const C = p.gamma.length;
        const y = chwnOutput(backend, x.shape);
        const mean = output(backend, [C], 'float32', 'any');
        const variance = output(backend, [C], 'float32', 'any');
        addon.tensors.batchNormForwardChwn!(a.relu, a.epsilon, c.values.x, p.gamma, p.beta, (c.values as { residual?: Float32Array }).residual ?? null,
          y.values, mean.values, variance.values);
        c.done();
        return [y.info, mean.info, variance.info];
      }
    }
    const v = floats(backend, BATCH_NORM_TRAIN, inputs, ['x', 'gamma', 'beta'] as const);
    if (typeof v === 'string') return decline(v);
    const residual = inputs['residual'] ? f32(backend, inputs['residual'], BATCH_NORM_TRAIN) : null;
    if (residual === undefined) return decline('residual is not float32');
    const C = v.gamma.length;
    const y = output(backend, x.shape, 'float32', 'any');
    const mean = output(backend, [C], 'float32', 'any');
    const variance = output(backend, [C], 'float32', 'any');
    addon.tensors.batchNormForward(a.relu, a.epsilon, v.x, v.gamma, v.beta, residual, y.values, mean.values, variance.values);
    return [y.info, mean.info, variance.info];
  },
};

const batchNormTrainGrad: NativeKernel = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  run: ({ inputs, attrs, backend, addon }) => {
    const a = attrs as unknown as BatchNormTrainAttrs;
    const x = inputs['x']!;
    // x stored CHWN: the gradient over channel planes (dy and y read CHWN), dx and dresidual CHWN.
    if (backend.chwnValues(x) && planes(addon)) {
      const p = floats(backend, BATCH_NORM_TRAIN_GRAD, inputs, ['gamma', 'mean', 'variance'] as const);
      const c = chwnInputs(backend, BATCH_NORM_TRAIN_GRAD, inputs, a.relu ? ['dy', 'x', 'y'] as const : ['dy', 'x'] as const);
      if (typeof p !== 'string' && c) {
        const C = p.gamma.length;
        const dx = chwnOutput(backend, x.shape);
        const dgamma = output(backend, [C], 'float32', 'any');
        const dbeta = output(backend, [C], 'float32', 'any');
        const dresidual = a.residual ? chwnOutput(backend, x.shape) : undefined;
        addon.tensors.batchNormBackwardChwn!(a.relu, a.epsilon, c.values.dy, c.values.x, p.gamma, p.mean, p.variance,
          (c.values as { y?: Float32Array }).y ?? null, dx.values, dgamma.values, dbeta.values, dresidual?.values ?? null);
        c.done();
        return dresidual ? [dx.info, dgamma.info, dbeta.info, dresidual.info] : [dx.info, dgamma.info, dbeta.info];
      }
    }
    const v = floats(backend, BATCH_NORM_TRAIN_GRAD, inputs, ['dy', 'x', 'gamma', 'mean', 'variance'] as const);
    if (typeof v === 'string') return decline(v);
    const y = a.relu ? f32(backend, inputs['y'], BATCH_NORM_TRAIN_GRAD) : null;
    if (y === undefined) return decline('y is not float32');
    const C = v.gamma.length;
    const dx = output(backend, x.shape, 'float32', 'any');
    const dgamma = output(backend, [C], 'float32', 'any');
    const dbeta = output(backend, [C], 'float32', 'any');
    const dresidual = a.residual ? output(backend, x.shape, 'float32', 'any') : undefined;
    addon.tensors.batchNormBackward(a.relu, a.epsilon, v.dy, v.x, v.gamma, v.mean, v.variance, y, dx.values, dgamma.values, dbeta.values, dresidual?.values ?? null);
    return dresidual ? [dx.info, dgamma.info, dbeta.info, dresidual.info] : [dx.info, dgamma.info, dbeta.info];
  },
};

const layerNorm: NativeKernel = {
  kernelName: LAYER_NORM,
  run: ({ inputs, attrs, backend, addon }) => {
    const v = floats(backend, LAYER_NORM, inputs, ['x', 'gamma', 'beta'] as const);
    if (typeof v === 'string') return decline(v);
    const x = inputs['x']!;
    const rows = v.x.length / v.gamma.length;
    const y = output(backend, x.shape, 'float32', 'any');
    const mean = output(backend, [rows], 'float32', 'any');
    const rstd = output(backend, [rows], 'float32', 'any');
    addon.tensors.layerNormForward((attrs as unknown as LayerNormAttrs).epsilon, v.x, v.gamma, v.beta, y.values, mean.values, rstd.values);
    return [y.info, mean.info, rstd.info];
  },
};

const layerNormGrad: NativeKernel = {
  kernelName: LAYER_NORM_GRAD,
  run: ({ inputs, backend, addon }) => {
    const v = floats(backend, LAYER_NORM_GRAD, inputs, ['dy', 'x', 'gamma', 'mean', 'rstd'] as const);
    if (typeof v === 'string') return decline(v);
    const x = inputs['x']!;
    const S = v.gamma.length;
    const dx = output(backend, x.shape, 'float32', 'any');
    const dgamma = output(backend, [S], 'float32', 'any');
    const dbeta = output(backend, [S], 'float32', 'any');
    addon.tensors.layerNormBackward(v.dy, v.x, v.gamma, v.mean, v.rstd, dx.values, dgamma.values, dbeta.values);
    return [dx.info, dgamma.info, dbeta.info];
  },
};

const gelu: NativeKernel = {
  kernelName: GELU,
  run: ({ inputs, attrs, backend, addon }) => {
    const v = floats(backend, GELU, inputs, ['x'] as const);
    if (typeof v === 'string') return decline(v);
    const y = output(backend, inputs['x']!.shape, 'float32', 'any');
    addon.tensors.gelu((attrs as unknown as GeluAttrs).approximate === 'tanh', v.x, y.values);
    return y.info;
  },
};

const geluGrad: NativeKernel = {
  kernelName: GELU_GRAD,
  run: ({ inputs, attrs, backend, addon }) => {
    const v = floats(backend, GELU_GRAD, inputs, ['dy', 'x'] as const);
    if (typeof v === 'string') return decline(v);
    const dx = output(backend, inputs['x']!.shape, 'float32', 'any');
    addon.tensors.geluGrad((attrs as unknown as GeluAttrs).approximate === 'tanh', v.dy, v.x, dx.values);
    return dx.info;
  },
};

// The same bits as core's host kernel (its Philox and threshold), on OpenMP threads.
const dropout: NativeKernel = {
  kernelName: DROPOUT,
  run: ({ inputs, attrs, backend, addon }) => {
    const v = floats(backend, DROPOUT, inputs, ['x'] as const);
    if (typeof v === 'string') return decline(v);
    if (typeof addon.tensors.dropout !== 'function') return decline('the addon was built without dropout (rebuild it)');
    const { rate, key, counter } = attrs as unknown as DropoutAttrs;
    const y = output(backend, inputs['x']!.shape, 'float32', 'any');
    addon.tensors.dropout(v.x, y.values, dropoutScale(rate), dropoutThreshold(rate), Float64Array.from(key), Float64Array.from(counter));
    return y.info;
  },
};

// tf.js' own FusedBatchNorm (inference: running statistics) over the last axis: one pass, y = (x − mean)·k +
// offset with k = scale / sqrt(variance + ε) per channel.
const fusedBatchNorm: NativeKernel = {
  kernelName: FusedBatchNorm,
  run: ({ inputs, attrs, backend, addon }) => {
    const x = inputs['x']!;
    // x stored CHWN: the same affine over channel planes, y stays CHWN.
    const xc = typeof addon.tensors.channelAffineChwn === 'function' ? backend.chwnValues(x) : undefined;
    const xv = xc ?? f32(backend, x, FusedBatchNorm);
    if (!xv || x.shape.length === 0) return decline(`x dtype ${x.dtype}`);
    const C = x.shape[x.shape.length - 1]!;
    const channel = (name: string, fallback: number): Float32Array | string => {
      const t = inputs[name];
      if (!t) return new Float32Array(C).fill(fallback);
      const v = f32(backend, t, FusedBatchNorm);
      if (!v) return `${name} is not float32`;
      if (v.length === C) return v;
      if (v.length === 1) return new Float32Array(C).fill(v[0]!);
      return `${name} has ${v.length} values for ${C} channels`;
    };
    const mean = channel('mean', 0);
    const variance = channel('variance', 1);
    const offset = channel('offset', 0);
    const scale = channel('scale', 1);
    for (const v of [mean, variance, offset, scale]) if (typeof v === 'string') return decline(v);
    const eps = (attrs['varianceEpsilon'] as number | undefined) ?? 0.001;
    const k = new Float32Array(C);
    for (let c = 0; c < C; c++) k[c] = (scale as Float32Array)[c]! / Math.sqrt((variance as Float32Array)[c]! + eps);
    if (xc) {
      const y = chwnOutput(backend, x.shape);
      addon.tensors.channelAffineChwn!(xc, mean as Float32Array, k, offset as Float32Array, y.values);
      return y.info;
    }
    const y = output(backend, x.shape, 'float32', 'any');
    if (xv.length > 0) addon.tensors.channelAffine(xv, mean as Float32Array, k, offset as Float32Array, y.values);
    return y.info;
  },
};

export const FUSED_KERNELS: NativeKernel[] = [
  fusedBatchNorm, batchNormTrain, batchNormTrainGrad, layerNorm, layerNormGrad, gelu, geluGrad, dropout];
