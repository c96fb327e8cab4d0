// Registers this project's training kernels/gradients for the wasm backend (idempotent).
export interface RegisteredKernels {
  kernels: string[];
  gradients: string[];
}

let registered: RegisteredKernels | undefined;

export function registerWasmTrainingKernels(): RegisteredKernels {
  if (registered) return registered;
  registered = { kernels: [], gradients: [] };
  return registered;
}

export function wasmKernelsProvenance(r: RegisteredKernels): string {
  return `sparse-ift wasm training kernels (${r.kernels.length} kernels, ${r.gradients.length} gradients)`;
}
