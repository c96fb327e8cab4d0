/**
 * Training-step time of the small GPT configs on a tf.js backend (not a test: speed lives
 * outside the suites). One step = forward + backward + Adam on one fixed batch; median of `--steps`
 * after 2 warm-up steps. The backend comes from @sparse-ift/backend's initBackend (wasm gets its
 * fast training kernels); the loop is `runStepTimeBench` of ./common.ts, shared with the ViT bench.
 *
 *   npx tsx packages/gpt/bench/step-time.ts [--backend wasm|cpu|auto] [--steps 5] [--sparsity 0.75] [--families dense,sparse-wide] [--only gpt-nano,gpt-mini]
 */
import * as tf from '@tensorflow/tfjs-core';
import { GPT_MINI, GPT_NANO, buildGpt, languageModelLoss, type GptConfig } from '@sparse-ift/gpt';
import { runStepTimeBench, type StepTimeCase } from '../../transformer/bench/common.js';

function gptCase(c: GptConfig, batch: number, seq: number): StepTimeCase {
  const ids = tf.randomUniform([batch, seq], 0, c.vocabSize, 'int32', 1);
  const targets = tf.randomUniform([batch, seq], 0, c.vocabSize, 'int32', 2);
  return {
    name: c.name,
    batch: `${batch}×${seq} tokens`,
    build: (family, s) => buildGpt(c, { family, sparsity: s, sequenceLength: seq, seed: 1 }),
    loss: (m, training) => languageModelLoss(m.apply(ids, { training }) as tf.Tensor, targets),
  };
}

await runStepTimeBench(() => [gptCase(GPT_NANO, 8, 16), gptCase(GPT_MINI, 4, 128)]);
