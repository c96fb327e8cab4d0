// Conv2D and its two gradients on oneDNN (direct convolutions, NHWC in place; see native/dnnl_conv.cc).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { decline, type NativeKernel, type NativeKernelOutput } from '../kernel.js';
import type { NativeBackend } from '../backend.js';
import type { NativeAddon } from '../../native.js';
import { conv2dGeometry, type Conv2DGeometry } from '../../wasm-kernels/conv2d.js';
import { f32, output, windowGeometry } from './tensors.js';

type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: number | [number, number];
  pad: Parameters<typeof conv2dGeometry>[4];
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function geometry(xShape: number[], filterShape: number[], a: ConvAttrs, dilations: ConvAttrs['dilations']): Conv2DGeometry | string {
  if (a.dataFormat === 'NCHW') return "dataFormat 'NCHW' (NHWC only)";
  if (xShape.length !== 4 || filterShape.length !== 4) return 'rank is not 4';
  try {
    return conv2dGeometry(xShape as Shape4, filterShape as Shape4, a.strides, dilations ?? 1, a.pad, a.dimRoundingMode);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function run(
  backend: NativeBackend, addon: NativeAddon, kernelName: string, op: 0 | 1 | 2, g: Conv2DGeometry | string,
  in1: TensorInfo, in2: TensorInfo, outShape: number[],
): NativeKernelOutput {
  if (typeof g === 'string') return decline(g);
  const a = f32(backend, in1, kernelName);
  const b = f32(backend, in2, kernelName);
  if (!a || !b) return decline(`dtypes ${in1.dtype} and ${in2.dtype}`);
  if (a.length === 0 || b.length === 0) return decline('empty tensor');
  const out = output(backend, outShape, 'float32', 'any');
  if (!addon.tensors.conv2d(op, windowGeometry(g), a, b, out.values)) {
    backend.disposeData(out.info.dataId);
    return decline('oneDNN declined the geometry');
  }
  return out.info;
}

const conv2d: NativeKernel = {
  kernelName: tf.Conv2D,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvAttrs;
    const g = geometry(x.shape, filter.shape, a, a.dilations);
    return run(backend, addon, tf.Conv2D, 0, g, x, filter, typeof g === 'string' ? [] : [g.batch, g.outH, g.outW, g.outC]);
  },
};

const backpropInput: NativeKernel = {
  kernelName: tf.Conv2DBackpropInput,
  run: ({ inputs, attrs, backend, addon }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
    const g = geometry(a.inputShape, filter.shape, a, 1);
    return run(backend, addon, tf.Conv2DBackpropInput, 1, g, dy, filter, a.inputShape);
  },
};

const backpropFilter: NativeKernel = {
  kernelName: tf.Conv2DBackpropFilter,
  run: ({ inputs, attrs, backend, addon }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
    const g = geometry(x.shape, a.filterShape, a, 1);
    return run(backend, addon, tf.Conv2DBackpropFilter, 2, g, x, dy, a.filterShape);
  },
};

// FusedConv2D without bias and activation is a Conv2D (tfjs-layers' Conv2D layer calls it so).
const fusedConv2d: NativeKernel = {
  kernelName: tf.FusedConv2D,
  run: (args) => {
    const { bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    if (bias || preluActivationWeights || activation !== 'linear') return decline('bias or activation (not fused natively)');
    return conv2d.run(args);
  },
};

export const CONV_KERNELS: NativeKernel[] = [conv2d, backpropInput, backpropFilter, fusedConv2d];
