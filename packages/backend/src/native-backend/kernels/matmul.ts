// BatchMatMul and _FusedMatMul (tfjs-layers Dense) on oneDNN's matmul: transposed operands are read
// through strides (no copies), a per-column bias is fused into the product.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, type NativeKernel, type NativeKernelArgs, type NativeKernelOutput } from '../kernel.js';
import { matMulDims, type MatMulDims } from '../../wasm-kernels/matmul.js';
import { f32, ints, output } from './tensors.js';

// The bias is fused into oneDNN's matmul; the activation runs afterwards, in place, as the backend's unary
// kernel (UnaryOp codes of native/kernels.h): oneDNN's eltwise post-ops flush NaN to a number (relu(NaN)
// = 0), where tfjs-backend-cpu keeps it.
const AFTER: Record<string, number> = { relu: 8, relu6: 9, leakyrelu: 13, elu: 14, sigmoid: 10 };

function matmul(kernelName: string, args: NativeKernelArgs, bias: TensorInfo | undefined, activation: string, alpha: number): NativeKernelOutput {
  const { backend, addon, attrs } = args;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const transposeA = attrs['transposeA'] === true;
  const transposeB = attrs['transposeB'] === true;
  const av = f32(backend, a, kernelName);
  const bv = f32(backend, b, kernelName);
  if (!av || !bv) return decline(`dtypes ${a.dtype} and ${b.dtype}`);
  if (a.shape.length < 2 || b.shape.length < 2) return decline('rank < 2');
  let d: MatMulDims;
  try {
    d = matMulDims(a.shape, b.shape, transposeA, transposeB);
  } catch (e) {
    return decline(e instanceof Error ? e.message : String(e));
  }
  if (activation !== 'linear' && !(activation in AFTER)) return decline(`activation ${activation}`);
  let biasValues: Float32Array | null = null;
  if (bias) {
    const v = f32(backend, bias, kernelName);
    if (!v || v.length !== d.n || bias.shape[bias.shape.length - 1] !== d.n) return decline(`bias of shape [${bias.shape.join(',')}] (only [n] is fused)`);
    biasValues = v;
  }
  if (d.k === 0) return decline('empty inner dimension');
  const out = output(backend, d.outShape, 'float32', 'any');
  if (out.values.length === 0) return out.info;
  const ok = addon.tensors.matmul(ints([d.batch, d.batchA, d.batchB, d.m, d.n, d.k]), transposeA, transposeB, av, bv, biasValues, out.values);
  if (!ok) {
    backend.disposeData(out.info.dataId);
    return decline('oneDNN declined the problem');
  }
  const after = AFTER[activation];
  if (after !== undefined) addon.tensors.unary(after, out.values, out.values, alpha, 0); // in place
  return out.info;
}

const batchMatMul: NativeKernel = {
  kernelName: tf.BatchMatMul,
  run: (args) => matmul(tf.BatchMatMul, args, undefined, 'linear', 0),
};

const fusedMatMul: NativeKernel = {
  kernelName: tf._FusedMatMul,
  run: (args) => {
    const { bias, preluActivationWeights } = args.inputs;
    if (preluActivationWeights) return decline('prelu activation');
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    return matmul(tf._FusedMatMul, args, bias, activation, Number(args.attrs['leakyreluAlpha'] ?? 0.2));
  },
};

export const MATMUL_KERNELS: NativeKernel[] = [batchMatMul, fusedMatMul];
