/**
 * The `fashion-mnist` experiment: dense against the four Sparse-IFT families at equal FLOPs, every
 * (family, s, method) row over several seeds; writes results.json, results.md and an SVG plot.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countFlops, type Family } from '@sparse-ift/core';
import {
  accuracyPlotSvg,
  cifarRecipe,
  nonClobberingPath,
  prepareStateDir,
  train,
  type PlotPoint,
  type RunState,
  type ExperimentContext,
  type ExperimentOutcome,
  type LabelledData,
  type MaskMethod,
} from '@sparse-ift/train';
import { loadData } from './data.js';
import { buildNet } from './model.js';
import { gridRows, PRESETS, type FashionPreset, type GridRow } from './presets.js';

/** One trained model, as stored in results.json. */
export interface RunRecord {
  id: string;
  architecture: string;
  family: Family;
  /** Nominal Sparse-IFT sparsity s. */
  sparsity: number;
  /** Sparsity the masks were drawn at (Sparse Wide: solved for the FLOP budget, spec §3.11). */
  maskSparsity: number;
  method: MaskMethod;
  seed: number;
  testAccuracy: number;
  bestTestAccuracy: number;
  /** All weights and biases of the instantiated (possibly widened) model, masked or not. */
  params: number;
  /** Weights that are non-zero in the masks plus all unmasked weights. */
  nonzeroParams: number;
  /** Forward FLOPs per sample, official counter (spec §3.10): instantiated model counted dense. */
  denseFlops: number;
  /** … and at the realised mask densities. */
  sparseFlops: number;
  /** sparseFlops / the dense baseline's FLOPs: 1.0 is iso-FLOP. */
  flopRatio: number;
  /** Ones over elements across all masked tensors at the end of training. */
  realisedDensity: number;
  wallSeconds: number;
  epochs: number;
  steps: number;
  backend: string;
}

export interface RowSummary {
  family: Family;
  sparsity: number;
  method: MaskMethod;
  maskSparsity: number;
  seeds: number;
  accuracyMean: number;
  accuracyStd: number;
  params: number;
  nonzeroParams: number;
  sparseFlops: number;
  flopRatio: number;
  realisedDensity: number;
  wallSecondsMean: number;
}

function runId(preset: FashionPreset, row: GridRow, seed: number): string {
  return `${preset.architecture}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}

async function trainOne(preset: FashionPreset, row: GridRow, seed: number, data: { train: LabelledData; test: LabelledData }, ctx: ExperimentContext, state: RunState): Promise<RunRecord> {
  const id = runId(preset, row, seed);
  const net = buildNet({ architecture: preset.architecture, inputSize: preset.inputSize, width: preset.width, family: row.family, sparsity: row.sparsity, seed });
  try {
    const recipe = cifarRecipe(preset.epochs);
    const result = await train(net, data, {
      seed,
      epochs: preset.epochs,
      batchSize: preset.batchSize,
      optimizer: { ...recipe.optimizer, lr: preset.lr },
      schedule: recipe.schedule,
      mask: { method: row.method, frequency: preset.maskUpdateFrequency },
      checkpointFile: state.checkpointFile(id),
      checkpointEvery: preset.checkpointEvery,
      resume: ctx.resume,
      tensorboardDir: join(ctx.outDir, 'tensorboard', id),
      progress: ctx.progress,
      label: id,
      log: ctx.log,
    });
    const ops = net.flopOps();
    const flops = countFlops(ops, 'official');
    let maskOnes = 0;
    let maskSize = 0;
    for (const mp of net.maskedParams) {
      const ones = (mp.mask.dataSync() as Float32Array).reduce((a: number, v: number) => a + v, 0);
      maskOnes += ones;
      maskSize += mp.mask.size;
    }
    const params = net.params.reduce((a, p) => a + p.variable.size, 0);
    const budget = countFlops(buildBaselineOps(preset), 'official').dense;
    return {
      id,
      architecture: preset.architecture,
      family: row.family,
      sparsity: row.sparsity,
      maskSparsity: net.maskSparsity,
      method: row.method,
      seed,
      testAccuracy: result.testAccuracy!,
      bestTestAccuracy: Math.max(...result.history.map((h) => h.testAccuracy)),
      params,
      nonzeroParams: params - (maskSize - maskOnes),
      denseFlops: flops.dense,
      sparseFlops: flops.sparse,
      flopRatio: flops.sparse / budget,
      realisedDensity: maskSize > 0 ? maskOnes / maskSize : 1,
      wallSeconds: result.wallSeconds,
      epochs: preset.epochs,
      steps: result.steps,
      backend: ctx.backend.name,
    };
  } finally {
    net.dispose();
  }
}

function buildBaselineOps(preset: FashionPreset) {
  const dense = buildNet({ architecture: preset.architecture, inputSize: preset.inputSize, width: preset.width, family: 'dense', sparsity: 0, seed: 0 });
  const ops = dense.flopOps();
  dense.dispose();
  return ops;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1), 0 for a single seed. */
const std = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

export function summarise(runs: RunRecord[]): RowSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.family}|${r.sparsity}|${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => ({
    family: rs[0]!.family,
    sparsity: rs[0]!.sparsity,
    method: rs[0]!.method,
    maskSparsity: mean(rs.map((r) => r.maskSparsity)),
    seeds: rs.length,
    accuracyMean: 100 * mean(rs.map((r) => r.testAccuracy)),
    accuracyStd: 100 * std(rs.map((r) => r.testAccuracy)),
    params: rs[0]!.params,
    nonzeroParams: Math.round(mean(rs.map((r) => r.nonzeroParams))),
    sparseFlops: Math.round(mean(rs.map((r) => r.sparseFlops))),
    flopRatio: mean(rs.map((r) => r.flopRatio)),
    realisedDensity: mean(rs.map((r) => r.realisedDensity)),
    wallSecondsMean: mean(rs.map((r) => r.wallSeconds)),
  }));
}

const FAMILY_LABEL: Record<Family, string> = {
  dense: 'Dense',
  'sparse-wide': 'Sparse Wide',
  'sparse-parallel': 'Sparse Parallel',
  'sparse-factorized': 'Sparse Factorized',
  'sparse-doped': 'Sparse Doped',
};

export function markdownTable(rows: RowSummary[]): string {
  const dense = rows.find((r) => r.family === 'dense');
  const header =
    '| family | s | method | mask s | test acc. % (mean ± std) | Δ vs dense | seeds | params | non-zero params | FLOPs/sample | iso-FLOP ratio | wall s/run |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const delta = dense && r !== dense ? `${r.accuracyMean - dense.accuracyMean >= 0 ? '+' : ''}${(r.accuracyMean - dense.accuracyMean).toFixed(2)}` : '—';
    return `| ${FAMILY_LABEL[r.family]} | ${r.family === 'dense' ? '—' : r.sparsity} | ${r.method} | ${r.family === 'dense' ? '—' : r.maskSparsity.toFixed(3)} | ${r.accuracyMean.toFixed(2)} ± ${r.accuracyStd.toFixed(2)} | ${delta} | ${r.seeds} | ${r.params.toLocaleString('en-US')} | ${r.nonzeroParams.toLocaleString('en-US')} | ${r.sparseFlops.toLocaleString('en-US')} | ${r.flopRatio.toFixed(3)} | ${r.wallSecondsMean.toFixed(1)} |`;
  });
  return [header, ...lines].join('\n');
}

export async function runFashionMnist(ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const preset = PRESETS[ctx.preset];
  if (!preset) throw new Error(`unknown preset '${ctx.preset}'; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  const started = Date.now();
  // Per-run state (checkpoints, finished-run records) lives in one folder; never silently reused or discarded.
  const state = prepareStateDir(ctx);

  const data = await loadData(ctx.dataDir, preset);
  ctx.log(`data: Fashion-MNIST from ${data.source} (${data.train.count} train / ${data.test.count} test images, ${preset.inputSize}×${preset.inputSize})`);
  const rows = gridRows(preset);
  const seeds = Array.from({ length: ctx.seeds }, (_, i) => i);
  const runs: RunRecord[] = [];
  const total = rows.length * seeds.length;
  for (const seed of seeds) {
    for (const row of rows) {
      const id = runId(preset, row, seed);
      const earlier = state.finished<RunRecord>(id);
      if (earlier) {
        runs.push(earlier);
        ctx.log(`[${runs.length}/${total}] ${id}: already finished, reusing its result`);
        continue;
      }
      const record = await trainOne(preset, row, seed, data, ctx, state);
      state.markFinished(id, record);
      runs.push(record);
      ctx.log(`[${runs.length}/${total}] ${id}: test acc ${(100 * record.testAccuracy).toFixed(2)}%, FLOP ratio ${record.flopRatio.toFixed(3)}, ${record.wallSeconds.toFixed(1)} s`);
    }
  }

  const summary = summarise(runs);
  const table = markdownTable(summary);
  const wallSeconds = (Date.now() - started) / 1000;
  const results = {
    experiment: 'fashion-mnist',
    preset: ctx.preset,
    presetConfig: preset,
    seeds: ctx.seeds,
    backend: ctx.backend,
    backendLine: ctx.backendLine,
    data: data.source,
    startedAt: new Date(started).toISOString(),
    wallSeconds,
    flopConvention: 'official (Cerebras counter, spec §3.10), forward FLOPs per sample',
    rows: summary,
    runs,
  };
  const files: Record<string, string> = {};
  files['results.json'] = nonClobberingPath(join(ctx.outDir, 'results.json'), ctx.force);
  writeFileSync(files['results.json'], JSON.stringify(results, null, 2) + '\n');

  const denseRow = summary.find((r) => r.family === 'dense')!;
  const points: PlotPoint[] = summary
    .filter((r) => r.family !== 'dense')
    .map((r) => ({ series: `${FAMILY_LABEL[r.family]} (${r.method})`, sparsity: r.sparsity, accuracy: r.accuracyMean, std: r.accuracyStd }));
  files['plot'] = nonClobberingPath(join(ctx.outDir, 'accuracy-vs-sparsity.svg'), ctx.force);
  writeFileSync(files['plot'], await accuracyPlotSvg(points, denseRow.accuracyMean, `Fashion-MNIST ${preset.architecture}, preset ${ctx.preset}: test accuracy at equal FLOPs`));

  const md = [
    `# Fashion-MNIST: Sparse-IFT families at equal FLOPs (preset \`${ctx.preset}\`)`,
    '',
    `${preset.description}.`,
    '',
    `- ${ctx.backendLine}`,
    `- data: ${data.source}; ${data.train.count} train / ${data.test.count} test images`,
    `- seeds: ${ctx.seeds}; total wall time ${(wallSeconds / 60).toFixed(1)} min`,
    '- FLOPs: forward FLOPs per sample with the official counter (spec §3.10) at the realised mask densities; the iso-FLOP ratio divides by the dense baseline.',
    '- Sparse Wide: widths from `sparseWideWidth`, mask sparsity solved to meet the dense budget (spec §3.11), shown as "mask s".',
    '',
    table,
    '',
    `![accuracy against sparsity](${files['plot'].split('/').at(-1)})`,
    '',
    `Rerun: \`npx sift reproduce fashion-mnist --preset ${ctx.preset} --seeds ${ctx.seeds}\``,
    '',
  ].join('\n');
  files['results.md'] = nonClobberingPath(join(ctx.outDir, 'results.md'), ctx.force);
  writeFileSync(files['results.md'], md);
  return { files, table, summary: { experiment: 'fashion-mnist', preset: ctx.preset, wallSeconds, rows: summary, files } };
}
