/**
 * Training-step time of the small ViT configs on a tf.js backend (not a test: speed lives
 * outside the suites). One step = forward + backward + Adam on one fixed batch; median of `--steps`
 * after 2 warm-up steps. The backend comes from @sparse-ift/backend's initBackend (wasm gets its
 * fast training kernels); the loop is `runStepTimeBench` of packages/gpt/bench/common.ts.
 *
 *   npx tsx packages/vit/bench/step-time.ts [--backend wasm|cpu|auto] [--steps 5] [--sparsity 0.75] [--families dense,sparse-wide] [--only vit-mini-28,vit-mini-32]
 */
import * as tf from '@tensorflow/tfjs-core';
import { VIT_MINI_28, VIT_MINI_32, buildVit, type VitConfig } from '@sparse-ift/vit';
import { runStepTimeBench, type StepTimeCase } from '../../transformer/bench/common.js';

function vitCase(c: VitConfig, batch: number): StepTimeCase {
  const x = tf.randomUniform([batch, c.imageSize, c.imageSize, c.channels], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.randomUniform([batch], 0, c.numClasses, 'int32', 4) as tf.Tensor1D, c.numClasses);
  return {
    name: c.name,
    batch: `${batch} images`,
    build: (family, s) => buildVit(c, { family, sparsity: s, seed: 1 }),
    loss: (m, training) => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training }) as tf.Tensor) as tf.Scalar,
  };
}

await runStepTimeBench(() => [vitCase(VIT_MINI_28, 32), vitCase(VIT_MINI_32, 32)]);
