import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { NATIVE_BACKEND_BUILT } from './helpers.js';

describe('initBackend', () => {
  const expected = NATIVE_BACKEND_BUILT ? 'native' : 'wasm';
  it(`auto picks ${expected} here (tfjs-node is not installed; the addon is ${NATIVE_BACKEND_BUILT ? '' : 'not '}built) and setBackend really switched`, async () => {
    const lines: string[] = [];
    const info = await initBackend({ training: true, log: (l) => lines.push(l) });
    expect(info.name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(info.requested).toBe('auto');
    expect(info.reason).toMatch(/tensorflow-gpu/);
    expect(lines.some((l) => l.includes('@tensorflow/tfjs-node-gpu'))).toBe(true);
    expect(info.kernels).toMatch(NATIVE_BACKEND_BUILT ? /native backend: oneDNN .*tfjs-backend-cpu 4\.22/ : /tfjs-backend-wasm 4\.22/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    const line = describeBackend(info);
    expect(line).not.toContain('\n');
    expect(line).toMatch(new RegExp(`^backend: ${expected}`));
  });

  it('auto without the native backend (useNative: false) picks wasm', async () => {
    const info = await initBackend({ training: true, useNative: false });
    expect(info.name).toBe('wasm');
    expect(info.native).toBe(false);
  });

  it('refuses training on cpu unless allowed, and really switches when allowed', async () => {
    await expect(initBackend({ backend: 'cpu', training: true })).rejects.toThrow(/allowCpuTraining/);
    const info = await initBackend({ backend: 'cpu', training: true, allowCpuTraining: true });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await initBackend({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('a forced backend that is absent throws and names the package to install', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/npm i @tensorflow\/tfjs-node/);
  });

  it('rejects unknown names', async () => {
    await expect(initBackend({ backend: 'webgl' as never })).rejects.toThrow(/unknown backend 'webgl'/);
  });
});
