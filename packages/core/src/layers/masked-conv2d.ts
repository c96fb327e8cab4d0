/**
 * MaskedConv2D: y = act(conv2d(x, kernel ⊙ mask) + bias), channels-last (NHWC), kernel
 * [kh, kw, Cin, Cout] as tf.layers.conv2d, with a saved 0/1 mask (docs/sparse-training.md#mask-init).
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import type { Shape } from '@tensorflow/tfjs-layers';
import { canonicalActivationName, resolveActivation, type ActivationFn, type ActivationName } from './initializers.js';
import {
  MaskedKernelLayer,
  type BaseLayerArgs,
  type CallKwargs,
  type KernelArgs,
  type MaskArgs,
} from './masked-kernel.js';
import { singleShape } from './masked-dense.js';
import { maskedConv2d } from '../ops/masked.js';

export type Pair = [number, number];

export interface MaskedConv2DArgs extends BaseLayerArgs, MaskArgs, KernelArgs {
  filters: number;
  kernelSize: number | Pair;
  /** Default 1. */
  strides?: number | Pair;
  /** Default 'same' (PyTorch padding k//2 for odd k at stride 1; see README for stride 2). */
  padding?: 'same' | 'valid';
  /** Default 1. tf.conv2d cannot combine dilation > 1 with stride > 1. */
  dilationRate?: number | Pair;
  activation?: ActivationName;
}

function pair(v: number | Pair | undefined, fallback: number, what: string, layer: string): Pair {
  const p: Pair = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x > 0)) {
    throw new RangeError(`MaskedConv2D '${layer}': ${what} must be positive integers, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Keras' conv_output_length. */
function convOutputLength(length: number | null, k: number, stride: number, dilation: number, padding: 'same' | 'valid'): number | null {
  if (length == null) return null;
  const effective = (k - 1) * dilation + 1;
  const out = padding === 'same' ? length : length - effective + 1;
  return Math.floor((out + stride - 1) / stride);
}

export class MaskedConv2D extends MaskedKernelLayer {
  static className = 'MaskedConv2D';
  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly padding: 'same' | 'valid';
  readonly dilationRate: Pair;
  readonly activation: ActivationName;
  private readonly activationFn: ActivationFn;

  /** Default kernel initializer: kaimingNormal fan-out (PyTorch ResNet), see initializers.ts. */
  constructor(args: MaskedConv2DArgs) {
    super(args, 'kaimingNormal');
    if (!Number.isInteger(args.filters) || args.filters <= 0) {
      throw new RangeError(`MaskedConv2D '${this.name}': filters must be a positive integer, got ${args.filters}`);
    }
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize', this.name);
    this.strides = pair(args.strides, 1, 'strides', this.name);
    this.dilationRate = pair(args.dilationRate, 1, 'dilationRate', this.name);
    this.padding = args.padding ?? 'same';
    if (this.padding !== 'same' && this.padding !== 'valid') {
      throw new Error(`MaskedConv2D '${this.name}': padding must be 'same' or 'valid', got '${String(this.padding)}'`);
    }
    if (this.dilationRate.some((d) => d > 1) && this.strides.some((s) => s > 1)) {
      throw new Error(`MaskedConv2D '${this.name}': tf.conv2d cannot use dilationRate > 1 with strides > 1; set one to 1`);
    }
    this.activation = canonicalActivationName(args.activation ?? 'linear');
    this.activationFn = resolveActivation(this.activation);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, this.name);
    const cin = shape[3];
    if (shape.length !== 4 || cin == null) {
      throw new Error(`MaskedConv2D '${this.name}' needs an NHWC input of rank 4 with known channels, got [${shape.join(', ')}]`);
    }
    this.buildKernel([this.kernelSize[0], this.kernelSize[1], cin, this.filters], this.filters);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape, this.name);
    return [
      shape[0] ?? null,
      convOutputLength(shape[1] ?? null, this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding),
      convOutputLength(shape[2] ?? null, this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding),
      this.filters,
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const { kernel, mask } = this.kernelAndMask();
      let y: tf.Tensor = mask
        ? maskedConv2d(x, kernel, mask, this.strides, this.padding, this.dilationRate)
        : tf.conv2d(x, kernel as tf.Tensor4D, this.strides, this.padding, 'NHWC', this.dilationRate);
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      return this.activationFn.apply(y);
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: this.activation,
      ...this.maskConfig(),
      ...super.getConfig(),
    };
  }
}
serialization.registerClass(MaskedConv2D);
