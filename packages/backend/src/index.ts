export {
  initBackend,
  describeBackend,
  wasmBinaryDir,
  BACKEND_NAMES,
  type BackendName,
  type BackendInfo,
  type InitBackendOptions,
} from './select.js';
export { registerWasmTrainingKernels, type RegisteredKernels } from './wasm-kernels/register.js';
export { loadNativeAddon, nativeAddonPath, type NativeAddon, type NativeStatus } from './native.js';
