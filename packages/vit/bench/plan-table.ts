/**
 * Params and forward FLOPs of ViT-S/16 (or other registered ViTs) for every family × sparsity, from the op
 * lists (no weights allocated). Paper convention = MACs; official = the Cerebras counter's
 * multiplies + adds (attention matmuls invisible to it, spec §3.10).
 *
 *   npx tsx packages/vit/bench/plan-table.ts [--models vit-s16,vit-b16]
 */
import { parseArgs } from 'node:util';
import { FAMILIES, planRegisteredModel } from '@sparse-ift/core';
import '@sparse-ift/vit';

const { values } = parseArgs({ options: { models: { type: 'string', default: 'vit-s16' } } });
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
