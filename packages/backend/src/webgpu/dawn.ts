// Dawn, Chromium's WebGPU implementation, from the `webgpu` npm package (its native binary ships inside
// the package, so it installs offline), as the `navigator.gpu` that @tensorflow/tfjs-backend-webgpu uses.
//
// Synchronous reads. tf.js' `dataSync()` calls the backend's readSync; tfjs-backend-webgpu implements it
// with an OffscreenCanvas (a browser API), so in Node it throws. Dawn's Node binding resolves its promises
// (buffer.mapAsync among them) from a native "tick" callback that it schedules with the global
// `setImmediate`, which it looks up once. This module wraps `setImmediate` before the binding loads, so it
// can recognise those ticks and, for a synchronous read, run them itself until the buffer is mapped.
import { createRequire } from 'node:module';

export interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

const require = createRequire(import.meta.url);

type Tick = () => void;
const realSetImmediate = globalThis.setImmediate;
const realClearImmediate = globalThis.clearImmediate;
/** Dawn's ticks scheduled on the event loop, by handle, so a synchronous wait can run them now instead. */
const scheduledTicks = new Map<NodeJS.Immediate, Tick>();
/** While a synchronous wait runs: the ticks Dawn asks for, run by the wait's loop. */
let syncTicks: Tick[] | null = null;
let hooked = false;

/** Dawn's tick: a native function with no name, scheduled with no arguments. */
function isDawnTick(fn: unknown, args: unknown[]): fn is Tick {
  return (
    typeof fn === 'function' && args.length === 0 && fn.name === '' &&
    Function.prototype.toString.call(fn) === 'function () { [native code] }'
  );
}

function hookSetImmediate(): void {
  if (hooked) return;
  hooked = true;
  const wrapped = function setImmediate(fn: (...a: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
    if (!isDawnTick(fn, args)) return realSetImmediate(fn, ...args);
    if (syncTicks) {
      syncTicks.push(fn);
      // Dawn ignores the handle; a real (empty) one keeps the type honest.
      return realSetImmediate(() => {});
    }
    const handle: NodeJS.Immediate = realSetImmediate(() => {
      scheduledTicks.delete(handle);
      fn();
    });
    scheduledTicks.set(handle, fn);
    return handle;
  };
  // Keep util.promisify(setImmediate) working.
  Object.assign(wrapped, realSetImmediate);
  globalThis.setImmediate = wrapped as typeof globalThis.setImmediate;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Run Dawn's ticks on this thread until `done()` (e.g. a buffer is mapped). Throws, naming `what`, when
 * Dawn has nothing scheduled (it would never finish) or after `timeoutMs`.
 */
export function waitForDawn(done: () => boolean, what: string, timeoutMs = 600_000): void {
  if (syncTicks) throw new Error(`webgpu: ${what}: nested synchronous wait`);
  syncTicks = [];
  for (const [handle, tick] of scheduledTicks) {
    realClearImmediate(handle);
    syncTicks.push(tick);
  }
  scheduledTicks.clear();
  const start = performance.now();
  let spins = 0;
  try {
    while (!done()) {
      const tick = syncTicks.shift();
      if (!tick) throw new Error(`webgpu: ${what}: Dawn scheduled no work to wait for (the operation can never complete)`);
      tick();
      // A real GPU may still be computing: after a burst of spins, sleep 50 µs between polls.
      if (++spins > 64) Atomics.wait(sleeper, 0, 0, 0.05);
      if (performance.now() - start > timeoutMs) throw new Error(`webgpu: ${what}: the GPU did not finish within ${timeoutMs / 1000} s`);
    }
  } finally {
    const rest = syncTicks;
    syncTicks = null;
    for (const tick of rest) globalThis.setImmediate(tick);
  }
}

let dawn: DawnModule | undefined;

/** Where the `webgpu` package is, or undefined when it is not installed. */
export function dawnPackageDir(): string | undefined {
  try {
    return require.resolve('webgpu/package.json').replace(/\/package\.json$/, '');
  } catch {
    return undefined;
  }
}

/** Loads Dawn (once) and puts its WebGPU globals (GPUBufferUsage, GPUBuffer, …) on globalThis. */
export async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  hookSetImmediate();
  const specifier = 'webgpu';
  const mod = (await import(specifier)) as DawnModule;
  Object.assign(globalThis, mod.globals);
  dawn = mod;
  return mod;
}

/**
 * Makes `gpu` the global `navigator.gpu` (tfjs-backend-webgpu reads it), or removes it (undefined): Node
 * keeps running while Dawn's instance is referenced, so releasing it lets the process exit.
 */
export function setNavigatorGpu(gpu: GPU | undefined): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (gpu === undefined) {
    if (g.navigator && 'gpu' in g.navigator) {
      try {
        delete g.navigator.gpu;
      } catch {
        Object.defineProperty(g.navigator, 'gpu', { value: undefined, configurable: true, writable: true });
      }
    }
    return;
  }
  if (g.navigator == null) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true, enumerable: true });
}
