/**
 * The bench loops the GPT and ViT scripts share (not a test: speed lives outside the suites).
 * `step-time.ts` and `plan-table.ts` of both packages say which models; this file measures and prints.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend, type BackendName } from '@sparse-ift/backend';
import { FAMILIES, collectMaskedParams, planRegisteredModel, type Family } from '@sparse-ift/core';

/** One model of the step-time table: how to build it and its loss on one fixed batch. */
export interface StepTimeCase {
  name: string;
  batch: string;
  build: (family: Family, s: number) => LayersModel;
  loss: (model: LayersModel, training: boolean) => tf.Scalar;
}

/**
 * Reads `--backend --steps --sparsity --only --families`, then prints the median time of one
 * forward + backward + Adam step of every case × family after 2 warm-up steps. `cases` is called
 * after the backend is set, so its batches live on that backend.
 */
export async function runStepTimeBench(cases: () => StepTimeCase[]): Promise<void> {
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
  // The project's backend selection: on wasm it adds the fast training kernels of @sparse-ift/backend.
  const info = await initBackend({ backend: backend as BackendName | 'auto', training: true, allowCpuTraining: true });
  console.log(describeBackend(info));
  console.log(`median of ${steps} steps after 2 warm-up steps, sparse families at s=${sparsity}`);
  const selected = cases().filter((c) => values.only === undefined || values.only.split(',').includes(c.name));
  console.log('| model | batch | family | params | masked | step ms (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const c of selected) {
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

/**
 * Reads `--models` (default `defaultModels`) and prints params and forward FLOPs of every registered
 * model named there, for every family × s, from the op lists (no weights allocated).
 */
export function printPlanTable(defaultModels: string): void {
  const { values } = parseArgs({ options: { models: { type: 'string', default: defaultModels } } });
  const m = (x: number) => (x / 1e6).toFixed(1);
  const g = (x: number) => (x / 1e9).toFixed(2);
  for (const name of values.models!.split(',')) {
    console.log(`\n### ${name} (per sample${name.startsWith('gpt') ? ', context 1024' : ', 224²'})\n`);
    console.log('| family | s | params (M) | masked (M) | masked-linear MACs (G) | ratio | whole-net MACs (G) | ratio | official FLOPs (G) | ratio |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const family of FAMILIES) {
      for (const s of family === 'dense' ? [0] : [0.5, 0.75, 0.9]) {
        const plan = planRegisteredModel(name, { family, sparsity: s }, { convention: 'paper' });
        const p = plan.byConvention.paper;
        const o = plan.byConvention.official;
        console.log(
          `| ${family} | ${s} | ${m(plan.totals.params)} | ${m(plan.totals.maskedParams)} | ${g(p.maskedLayers.sparseFlops)} | ${p.maskedLayers.flopRatio.toFixed(4)} | ${g(p.wholeNetwork.sparseFlops)} | ${p.wholeNetwork.flopRatio.toFixed(4)} | ${g(o.wholeNetwork.sparseFlops)} | ${o.wholeNetwork.flopRatio.toFixed(4)} |`,
        );
      }
    }
  }
}
