/**
 * What MaskedDense and MaskedConv2D share: a kernel, its 0/1 mask (a non-trainable weight saved
 * with the model), an optional bias, and the MaskedParam view of them (docs/sparse-training.md#mask-init, docs/deviations.md#roles-not-shapes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import { assertSparsity, type TensorRole } from '../isoflop.js';
import { Rng } from '../rng.js';
import type { HasMaskedParams, MaskedParam } from '../masked-param.js';
import {
  resolveInitializer,
  serializeInitializer,
  type Initializer,
  type InitializerSpec,
} from './initializers.js';

export const TENSOR_ROLES: readonly TensorRole[] = [
  'dense-weight',
  'wide-weight',
  'parallel-branch',
  'factorized-u',
  'factorized-v',
  'doped-sparse',
  'doped-u',
  'doped-v',
];

/** tfjs-layers' LayerArgs (name, trainable, inputShape, ...); the type itself is not exported. */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;
/** The kwargs tfjs passes to `call` (e.g. `{training: true}`). */
export type CallKwargs = Parameters<InstanceType<typeof layers.Layer>['call']>[1];

export interface MaskArgs {
  /** Target sparsity s of the kernel, in [0, 1). The mask keeps each weight with probability 1 − s. */
  sparsity: number;
  /** Role of the kernel inside its Sparse-IFT block; decides masking (docs/deviations.md#roles-not-shapes). */
  role: TensorRole;
  /**
   * Whether the kernel is sparse. Default: true unless role is 'dense-weight'. When false the mask
   * is all ones, the layer reports no masked params, and `sparsity` is only recorded.
   */
  masked?: boolean;
  /** Seed of the Bernoulli mask; without it every build draws a fresh mask. */
  maskSeed?: number;
}

export interface KernelArgs {
  useBias?: boolean;
  /** By name or instance; a serialized `{className, config}` dict is accepted for model loading. */
  kernelInitializer?: InitializerSpec | serialization.ConfigDict;
  biasInitializer?: InitializerSpec | serialization.ConfigDict;
}

/**
 * A Bernoulli(density) 0/1 float32 mask, elementwise independent (docs/sparse-training.md#mask-init),
 * drawn by core's `Rng` (docs/seeding.md), so a seed gives the same mask on every backend and the
 * same draw as the trainer's `initMasks`. Density 1 gives all ones.
 */
export function bernoulliMask(shape: number[], density: number, seed?: number): tf.Tensor {
  if (!(density >= 0 && density <= 1)) throw new RangeError(`mask density must be in [0, 1], got ${density}`);
  if (density === 1) return tf.ones(shape);
  const rng = seed === undefined ? Rng.unseeded() : Rng.fromSeed(seed);
  return tf.tensor(rng.bernoulliMask(shape.reduce((a, b) => a * b, 1), density), shape, 'float32');
}

export abstract class MaskedKernelLayer extends layers.Layer implements HasMaskedParams {
  /** Target sparsity of the kernel; change it only through {@link resetMask}. */
  sparsity: number;
  readonly role: TensorRole;
  readonly masked: boolean;
  maskSeed: number | undefined;
  readonly useBias: boolean;
  protected readonly kernelInitializer: Initializer;
  protected readonly biasInitializer: Initializer;
  protected kernel: LayerVariable | null = null;
  protected mask: LayerVariable | null = null;
  protected bias: LayerVariable | null = null;

  constructor(args: BaseLayerArgs & MaskArgs & KernelArgs, defaultKernelInitializer: InitializerSpec) {
    super(args);
    assertSparsity(args.sparsity, `${this.getClassName()} '${this.name}' sparsity`);
    if (!TENSOR_ROLES.includes(args.role)) {
      throw new Error(`${this.getClassName()} '${this.name}': unknown role '${String(args.role)}'; use one of ${TENSOR_ROLES.join(', ')}`);
    }
    this.sparsity = args.sparsity;
    this.role = args.role;
    this.masked = args.masked ?? args.role !== 'dense-weight';
    this.maskSeed = args.maskSeed ?? undefined;
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? defaultKernelInitializer);
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros');
  }

  /** Creates kernel, mask (Bernoulli(1−s), or ones) and bias; zeroes the masked kernel entries. */
  protected buildKernel(kernelShape: number[], outChannels: number): void {
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', this.kernelInitializer, undefined, true);
    const ones = resolveInitializer('ones');
    this.mask = this.addWeight('mask', kernelShape, 'float32', ones, undefined, false);
    if (this.masked && this.sparsity > 0) {
      const mask = bernoulliMask(kernelShape, 1 - this.sparsity, this.maskSeed);
      this.mask.write(mask);
      // The official code initialises densely, then multiplies by the mask (docs/sparse-training.md#mask-init): masked
      // entries start at exactly 0, so a later regrowth starts from zero as RigL expects.
      const kernel = tf.mul(this.kernel.read(), mask);
      this.kernel.write(kernel);
      mask.dispose();
      kernel.dispose();
    }
    if (this.useBias) {
      this.bias = this.addWeight('bias', [outChannels], 'float32', this.biasInitializer, undefined, true);
    }
  }

  /**
   * Draws a fresh Bernoulli(1 − sparsity) mask and a fresh dense init of the kernel, and sets the kernel
   * to init ⊙ mask, e.g. when a per-tensor distribution (ERK) assigns this kernel its own sparsity. The
   * kernel is drawn again because the old one is already masked: multiplying it by a second mask would
   * leave only the positions kept by both non-zero. An init-time operation: trained values are
   * replaced. The new sparsity and seed go into the layer config, so a saved model records them.
   */
  resetMask(sparsity: number, maskSeed?: number): void {
    assertSparsity(sparsity, `${this.getClassName()} '${this.name}' sparsity`);
    if (this.kernel === null || this.mask === null) {
      throw new Error(`${this.getClassName()} '${this.name}' is not built yet; call it on an input before resetMask`);
    }
    if (!this.masked) throw new Error(`${this.getClassName()} '${this.name}' has masked: false; its mask stays all ones`);
    this.sparsity = sparsity;
    this.maskSeed = maskSeed;
    const shape = this.kernelVariable().shape;
    const mask = bernoulliMask(shape, 1 - sparsity, maskSeed);
    const kernel = tf.tidy(() => tf.mul(this.kernelInitializer.apply(shape, 'float32'), mask));
    this.mask.write(mask);
    this.kernel.write(kernel);
    mask.dispose();
    kernel.dispose();
  }

  /**
   * The kernel and, when the layer is masked, its mask: the forward only ever computes with kernel ⊙ mask
   * (ops/masked.ts), so masked positions get exactly zero gradient. An unmasked layer's mask is all ones,
   * so its product is the kernel's own (no mask: a plain conv2d / matMul, same values).
   */
  protected kernelAndMask(): { kernel: tf.Tensor; mask: tf.Tensor | null } {
    if (this.kernel === null || this.mask === null) {
      throw new Error(`${this.getClassName()} '${this.name}' is not built yet; call it on an input first`);
    }
    return { kernel: this.kernel.read(), mask: this.masked ? this.mask.read() : null };
  }

  /** The kernel's and mask's tf.Variables (after build). */
  kernelVariable(): tf.Variable {
    if (this.kernel === null) throw new Error(`${this.getClassName()} '${this.name}' is not built yet`);
    // LayerVariable.read() is typed Tensor but returns the tf.Variable it owns.
    return this.kernel.read() as tf.Variable;
  }

  maskVariable(): tf.Variable {
    if (this.mask === null) throw new Error(`${this.getClassName()} '${this.name}' is not built yet`);
    return this.mask.read() as tf.Variable;
  }

  maskedParams(): MaskedParam[] {
    if (!this.masked) return [];
    const weight = this.kernelVariable();
    return [
      {
        // The scoped weight name ('block1_conv1/kernel'): the name model.save writes, stable across
        // loads (the tf.Variable's own name gets a '_1' suffix when a second copy is loaded).
        name: this.kernel!.originalName,
        layerName: this.name,
        role: this.role,
        sparsity: this.sparsity,
        weight,
        mask: this.maskVariable(),
      },
    ];
  }

  protected maskConfig(): serialization.ConfigDict {
    return {
      sparsity: this.sparsity,
      role: this.role,
      masked: this.masked,
      maskSeed: this.maskSeed ?? null,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }
}

