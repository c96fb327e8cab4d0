export {
  initBackend,
  describeBackend,
  describeAdapter,
  wasmBinaryDir,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
} from './select.js';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS, type RegisteredKernels } from './wasm-kernels/register.js';
export { setNativeKernels } from './wasm-kernels/native-kernels.js';
export { loadNativeAddon, nativeAddonPath, type NativeAddon, type NativeStatus } from './native.js';
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
