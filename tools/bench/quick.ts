import * as tf from '@tensorflow/tfjs-core';
import { initBackend, nativeBackendRegistration, registerWasmTrainingKernels, setNativeKernels, loadNativeAddon } from '../../packages/backend/src/index.js';
import { gpt, resnet18 } from './models.js';
const which = process.argv[2] ?? 'resnet';
const backend = process.argv[3] ?? 'native';
await initBackend({ backend: backend as 'native', training: true });
const m = which === 'gpt' ? gpt({ batch: 8, context: 256, dModel: 256, layers: 4, heads: 4, vocab: 512 }) : resnet18({ batch: 32, width: 64, sparsity: 0 });
const o = which === 'gpt' ? tf.train.adam(1e-3) : tf.train.momentum(0.01, 0.9);
const step = () => tf.tidy(() => { o.minimize(m.loss, true, m.variables)?.dataSync(); });
step(); step();
const reg = nativeBackendRegistration();
if (reg) { reg.provenance.reset(); reg.provenance.timing = (process.env['TIMING'] as 'cpu') ?? 'wall'; }
const ts: number[] = [];
const cs: number[] = [];
const reps = Number(process.env['REPS'] ?? 4);
for (let i = 0; i < reps; i++) { const c0 = process.cpuUsage(); const t0 = performance.now(); step(); ts.push(performance.now() - t0); const c = process.cpuUsage(c0); cs.push((c.user + c.system) / 1000); }
cs.sort((a, b) => a - b);
console.log(`cpu time min ${(cs[0]! / 1000).toFixed(3)} median ${(cs[cs.length >> 1]! / 1000).toFixed(3)} s`);
ts.sort((a, b) => a - b);
console.log(`${which} on ${backend}: min ${(ts[0]! / 1000).toFixed(3)} median ${(ts[ts.length >> 1]! / 1000).toFixed(3)} s  [${ts.map((t) => (t / 1000).toFixed(3)).join(' ')}]  rss ${(process.memoryUsage().rss / 1e9).toFixed(2)} GB`);
const st = loadNativeAddon(); if (st.loaded) console.log(JSON.stringify(st.addon.tensors.poolStats()));
if (reg) for (const t of reg.provenance.times().slice(0, 16)) console.log(`${t.kernel.padEnd(30)} ${(t.ms / reps).toFixed(1).padStart(8)} ms/step ${(t.calls / reps).toFixed(0).padStart(5)} calls/step ${t.route}`);
