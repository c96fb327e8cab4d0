/**
 * Training-step time of a ResNet on a tf.js backend, every family (not a test: timings vary with the machine).
 *   npm run build && npx tsx packages/resnet/bench/step-time.ts [--model resnet-mini-cifar] [--backend wasm|cpu]
 *     [--batch 32] [--steps 5] [--sparsity 0.75] [--families dense,sparse-wide,...]
 * Prints the median wall time of a forward + backward + SGD step after one warm-up step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@sparse-ift/backend';
import { FAMILIES, createModel, getModelDefinition, modelParamCount, type Family } from '@sparse-ift/core';
import '@sparse-ift/resnet';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const modelName = arg('model', 'resnet-mini-cifar');
const backend = arg('backend', 'wasm') as BackendName;
const batch = Number(arg('batch', '32'));
const steps = Number(arg('steps', '5'));
const sparsity = Number(arg('sparsity', '0.75'));
const families = arg('families', FAMILIES.join(',')).split(',') as Family[];

const info = await initBackend({ backend, training: true, allowCpuTraining: true });
const def = getModelDefinition(modelName);
const [h, w, c] = def.inputShape as [number, number, number];
const classes = def.numClasses ?? 10;
console.log(`${modelName} on ${info.name} (${info.kernels}), batch ${batch}, ${steps} timed steps`);
for (const family of families) {
  const model = createModel(modelName, { family, sparsity: family === 'dense' ? 0 : sparsity, seed: 0 });
  const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32', 2) as tf.Tensor1D, classes);
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const opt = tf.train.sgd(0.01);
  const step = (): number => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, vars)!;
    const v = loss.dataSync()[0]!;
    loss.dispose();
    return v;
  };
  step(); // warm-up (kernel compilation, weight upload)
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${family.padEnd(18)} params ${modelParamCount(model).toLocaleString('en-US').padStart(10)}  median step ${median.toFixed(0)} ms  (${(median / batch).toFixed(1)} ms/sample)`);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
}
