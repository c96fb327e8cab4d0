import * as tf from '@tensorflow/tfjs-core';
import { initBackend, setNativeKernels, loadNativeAddon } from '../../packages/backend/src/index.js';
await initBackend({ backend: 'wasm' });
const st = loadNativeAddon();
const a = tf.randomNormal([32, 256, 64]), b = tf.randomNormal([32, 256, 64]), c = tf.randomNormal([32,64,256]);
for (const nat of [false, true, false, true]) {
  setNativeKernels(nat && st.loaded ? st.addon : undefined);
  for (const [name, f] of [['NT', () => tf.matMul(a, b, false, true)], ['NN', () => tf.matMul(a, c)], ['T only', () => tf.transpose(b, [0, 2, 1])]] as const) {
    f().dataSync();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) tf.tidy(() => f().dataSync());
    const ms = (performance.now() - t0) / 5;
    console.log(nat ? 'native' : 'wasm', name, ms.toFixed(1), 'ms', (2 * 32 * 256 * 64 * 256 / ms / 1e6).toFixed(2));
  }
}
