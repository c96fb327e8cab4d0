// Every kernel the native backend implements itself; tfjs-backend-cpu's JS kernels cover the rest.
import type { NativeKernel } from '../kernel.js';
import { CONSTRUCT_KERNELS } from './construct.js';
import { CONV_KERNELS } from './conv.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { FUSED_KERNELS } from './fused.js';
import { LAYOUT_KERNELS } from './layout.js';
import { MATMUL_KERNELS } from './matmul.js';
import { OPTIMIZER_KERNELS } from './optimizer.js';
import { POOL_KERNELS } from './pool.js';
import { REDUCE_KERNELS } from './reduce.js';
import { SPARSE_KERNELS } from './sparse.js';

export const NATIVE_KERNELS: readonly NativeKernel[] = [
  ...CONV_KERNELS,
  ...MATMUL_KERNELS,
  ...FUSED_KERNELS,
  ...OPTIMIZER_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...POOL_KERNELS,
  ...LAYOUT_KERNELS,
  ...CONSTRUCT_KERNELS,
  ...SPARSE_KERNELS,
];
