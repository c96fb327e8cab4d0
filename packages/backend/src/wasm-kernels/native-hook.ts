// The optional native addon's entry points, installed by register.ts when the addon loads.
import type { NativeAddon } from '../native.js';

let addon: NativeAddon | undefined;

export function setNativeAddon(a: NativeAddon | undefined): void {
  addon = a;
}

export function nativeAddon(): NativeAddon | undefined {
  return addon;
}

export function nativeGemm(): NativeAddon['sgemm'] | undefined {
  return addon ? addon.sgemm.bind(addon) : undefined;
}
