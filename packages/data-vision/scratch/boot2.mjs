import { Worker } from 'node:worker_threads';
const t = performance.now();
const w = new Worker(`import('sharp').then(() => require('node:worker_threads').parentPort.postMessage('ok'))`, { eval: true });
await new Promise(r => w.once('message', r)); console.log('plain sharp worker', (performance.now()-t).toFixed(0)); await w.terminate();
const t2 = performance.now();
const w2 = new Worker(new URL('../dist/decode-worker.js', import.meta.url));
w2.postMessage({id:0, image: new Uint8Array(4), mode:'check', size:1, resize:1, seed:0, mean:[0,0,0], std:[1,1,1]});
await new Promise(r => w2.once('message', r)); console.log('dist worker', (performance.now()-t2).toFixed(0)); await w2.terminate();
