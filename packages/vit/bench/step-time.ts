/**
 * Training-step time of the small ViT configs on a tf.js backend (not a test: speed lives
 * outside the suites). One step = forward + backward + Adam on one fixed batch; median of `--steps`
 * after 2 warm-up steps. The backend comes from @sparse-ift/backend's initBackend (wasm gets its
 * fast training kernels).
 *
 *   npx tsx packages/vit/bench/step-time.ts [--backend wasm|cpu|auto] [--steps 5] [--sparsity 0.75] [--families dense,sparse-wide] [--only vit-mini-28,vit-mini-32]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend, type BackendName } from '@sparse-ift/backend';
import { FAMILIES, collectMaskedParams, type Family } from '@sparse-ift/core';
import { VIT_MINI_28, VIT_MINI_32, buildVit, type VitConfig } from '@sparse-ift/vit';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '5' },
    sparsity: { type: 'string', default: '0.75' },
    only: { type: 'string' },
    families: { type: 'string' },
  },
});
const backend = values.backend!;
const steps = Number(values.steps);
const sparsity = Number(values.sparsity);

interface Case {
  name: string;
  batch: string;
  build: (family: Family, s: number) => LayersModel;
  loss: (model: LayersModel, training: boolean) => tf.Scalar;
}

function vitCase(c: VitConfig, batch: number): Case {
  const x = tf.randomUniform([batch, c.imageSize, c.imageSize, c.channels], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.randomUniform([batch], 0, c.numClasses, 'int32', 4) as tf.Tensor1D, c.numClasses);
  return {
    name: c.name,
    batch: `${batch} images`,
    build: (family, s) => buildVit(c, { family, sparsity: s, seed: 1 }),
    loss: (m, training) => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training }) as tf.Tensor) as tf.Scalar,
  };
}

async function main(): Promise<void> {
  // The project's backend selection: on wasm it adds the fast training kernels of @sparse-ift/backend.
  const info = await initBackend({ backend: backend as BackendName | 'auto', training: true, allowCpuTraining: true });
  console.log(describeBackend(info));
  console.log(`median of ${steps} steps after 2 warm-up steps, sparse families at s=${sparsity}`);
  const cases = [vitCase(VIT_MINI_28, 32), vitCase(VIT_MINI_32, 32)].filter(
    (c) => values.only === undefined || values.only.split(',').includes(c.name),
  );
  console.log('| model | batch | family | params | masked | step ms (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const c of cases) {
    for (const family of FAMILIES.filter((f) => values.families === undefined || values.families.split(',').includes(f))) {
      const s = family === 'dense' ? 0 : sparsity;
      const model = c.build(family, s);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const params = variables.reduce((n, v) => n + v.size, 0);
      const masked = collectMaskedParams(model).reduce((n, p) => n + p.weight.size, 0);
      const optimizer = tf.train.adam(1e-3);
      const times: number[] = [];
      for (let i = 0; i < steps + 2; i++) {
        const t0 = performance.now();
        const cost = optimizer.minimize(() => c.loss(model, true), true, variables);
        cost!.dataSync();
        cost!.dispose();
        if (i >= 2) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      console.log(`| ${c.name} | ${c.batch} | ${family} | ${params.toLocaleString('en-US')} | ${masked.toLocaleString('en-US')} | ${median.toFixed(0)} |`);
      optimizer.dispose();
      model.dispose();
    }
  }
}

await main();
