import { describe, expect, it } from 'vitest';
import { sayOnce } from '../src/output.js';

describe('sayOnce', () => {
  it('drops a line whose message an earlier line already says, whatever its label', () => {
    const lines = [
      'backend: wasm | auto: tensorflow unavailable',
      '  not used: tensorflow: @tensorflow/tfjs-node not installed; add it with `npm i @tensorflow/tfjs-node`',
      '  native addon: not built when the package was installed',
      'backend tensorflow: @tensorflow/tfjs-node not installed; add it with `npm i @tensorflow/tfjs-node`', // said above
      '  webgpu adapter: GPU (Dawn default backend): no Vulkan loader', // new
      'gpu path webgpu: no GPU',
      '  adapter: GPU (Dawn default backend): no Vulkan loader', // said above
      '  Vulkan loader: not found',
      '  CUDA runtime: not found', // short messages ("not found") are never taken as said already
    ];
    expect(sayOnce(lines)).toEqual([lines[0], lines[1], lines[2], lines[4], lines[5], lines[7], lines[8]]);
  });
});
