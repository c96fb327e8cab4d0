export {
  initBackend,
  describeBackend,
  wasmBinaryDir,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
} from './select.js';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS, type RegisteredKernels } from './wasm-kernels/register.js';
export { setNativeKernels } from './wasm-kernels/native-kernels.js';
export { loadNativeAddon, nativeAddonPath, type NativeAddon, type NativeStatus } from './native.js';
export {
  SparseConv,
  alignedFloat32Array,
  loadSparseKernels,
  sparseConvGeometry,
  sparseLinearGeometry,
  sparseTuning,
  setSparseTuning,
  type SparseConvGeometry,
  type SparseIsa,
  type SparseKernelsAddon,
  type SparseLayout,
  type SparseTuning,
} from './sparse-kernels.js';
