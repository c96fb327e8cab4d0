export {
  KaimingNormal,
  kaimingNormal,
  computeFans,
  resolveInitializer,
  serializeInitializer,
  seededInitializer,
  torchLinearInit,
  resolveActivation,
  canonicalActivationName,
  type Initializer,
  type InitializerName,
  type InitializerSpec,
  type KaimingNormalArgs,
  type ActivationName,
  type ActivationFn,
} from './initializers.js';
export {
  MaskedKernelLayer,
  bernoulliMask,
  TENSOR_ROLES,
  type MaskArgs,
  type KernelArgs,
  type BaseLayerArgs,
} from './masked-kernel.js';
export { MaskedDense, type MaskedDenseArgs } from './masked-dense.js';
export { MaskedConv2D, type MaskedConv2DArgs, type Pair } from './masked-conv2d.js';
export { collectMaskedParams } from './collect.js';
export { LayerNorm, type LayerNormArgs } from './layer-norm.js';
export { BatchNorm, batchNorm, type BatchNormArgs } from './batch-norm.js';
export { Gelu, type GeluArgs } from './gelu.js';
export { Dropout, type DropoutArgs } from './dropout.js';
export {
  sparseIftDense,
  sparseIftConv2D,
  type SparseIftDenseOptions,
  type SparseIftConv2DOptions,
  type BatchNormOptions,
} from './blocks.js';
