export {
  initBackend,
  describeBackend,
  describeAdapter,
  wasmBinaryDir,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
  type KernelCoverage,
} from './select.js';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS, type RegisteredKernels } from './wasm-kernels/register.js';
export { setNativeKernels } from './wasm-kernels/native-kernels.js';
export { loadNativeAddon, nativeAddonPath, type NativeAddon, type NativeStatus, type TensorKernels, type TypedArray } from './native.js';
export { NativeBackend, NATIVE_BACKEND_NAME, type NativeTensorData, type ChwnLayout } from './native-backend/backend.js';
export { registerNativeBackend, registerNativeKernel, nativeBackendRegistration, type NativeBackendRegistration } from './native-backend/register.js';
export { KernelProvenance, describeProvenance, type KernelProvenanceSnapshot, type KernelRoute, type KernelTime } from './native-backend/provenance.js';
export { decline, share, Decline, Shared, type NativeKernel, type NativeKernelArgs, type NativeKernelOutput } from './native-backend/kernel.js';
export { trimNativeMemory, nativeMemoryStats } from './native-backend/memory.js';
export { TRAINING_KERNELS } from './native-backend/training-kernels.js';
export {
  DENSE_ABOVE,
  SPARSE_MARGIN,
  DENSITY_STEP,
  densityBucket,
  describeSparseKernels,
  setSparseMode,
  sparseMode,
  sparseKernelReport,
  resetSparseChoices,
  type SparseMode,
  type SparsePath,
  type SparseDirection,
  type SparseDirectionReport,
  type SparseLayerReport,
} from './native-backend/kernels/sparse.js';
export { setChwnActivations } from './native-backend/kernels/tensors.js';
export {
  SparseChoiceCache,
  SPARSE_CACHE_ENV,
  sparseChoiceCacheFile,
  forgetCacheWarnings,
  type SparseMachine,
  type StoredChoice,
} from './native-backend/sparse-choice-cache.js';
export { releaseWebGPU } from './webgpu/init.js';
export { availableHostMemory, deviceMemory, nvidiaFreeMemory, type DeviceMemory } from './memory.js';
export { registerWebGPUFusedKernels, unregisterWebGPUFusedKernels, WEBGPU_FUSED_KERNELS, WEBGPU_DEVICE_TRAINING_KERNELS } from './webgpu/kernels/register.js';
export { WebGPUError, registerWebGPUKernel } from './webgpu/backend.js';
export { adapterName, isSoftwareAdapter, type WebGPUAdapterReport } from './webgpu/adapter.js';
export { explainMissingGpu, findVulkanDrivers, findVulkanLoader, nvidiaInfo, type NvidiaInfo, type VulkanDriver } from './webgpu/diagnose.js';
export { webgpuPath, tensorflowGpuPath, TFJS_NODE_GPU_NEEDS, type GpuPathReport } from './gpu-doctor.js';
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
