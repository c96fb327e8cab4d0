/**
 * The `fashion-mnist` experiment: dense against the four Sparse-IFT families at equal FLOPs, every
 * (family, s, method) row over several seeds; writes results.json, results.md and an SVG plot.
 */
import { join } from 'node:path';
import { countFlops, type Family } from '@sparse-ift/core';
import {
  accuracyPlotSvg,
  FAMILY_LABEL,
  groupByRow,
  maskCounts,
  mean,
  meanFootprint,
  prepareStateDir,
  rowHeader,
  runGrid,
  sampleStd as std,
  writeResultFile,
  type PlotPoint,
  type RunState,
  type ExperimentContext,
  type ExperimentOutcome,
  type ModelFootprint,
} from '@sparse-ift/reproduce';
import { cifarRecipe, train, type LabelledData, type MaskMethod } from '@sparse-ift/train';
import { loadData } from './data.js';
import { buildNet } from './model.js';
import { gridRows, PRESETS, type FashionPreset, type GridRow } from './presets.js';

/** One trained model, as stored in results.json. */
/** One trained run: its accuracy, and the footprint (params, FLOPs, density) every reproduction records. */
export interface RunRecord extends ModelFootprint {
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
  /** Forward FLOPs per sample, official counter (spec §3.10): instantiated model counted dense. */
  denseFlops: number;
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

async function trainOne(preset: FashionPreset, row: GridRow, seed: number, id: string, data: { train: LabelledData; test: LabelledData }, ctx: ExperimentContext, state: RunState): Promise<RunRecord> {
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
    const masks = maskCounts(net.maskedParams);
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
      nonzeroParams: params - (masks.size - masks.ones),
      denseFlops: flops.dense,
      sparseFlops: flops.sparse,
      flopRatio: flops.sparse / budget,
      realisedDensity: masks.density,
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

export function summarise(runs: RunRecord[]): RowSummary[] {
  return groupByRow(runs).map((rs) => ({
    ...rowHeader(rs),
    accuracyMean: 100 * mean(rs.map((r) => r.testAccuracy)),
    accuracyStd: 100 * std(rs.map((r) => r.testAccuracy)),
    ...meanFootprint(rs),
  }));
}

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
  const runs = await runGrid({
    rows,
    seeds: ctx.seeds,
    state,
    runId: (row, seed) => runId(preset, row, seed),
    trainOne: (row, seed, id) => trainOne(preset, row, seed, id, data, ctx, state),
    describe: (record) => `test acc ${(100 * record.testAccuracy).toFixed(2)}%, FLOP ratio ${record.flopRatio.toFixed(3)}, ${record.wallSeconds.toFixed(1)} s`,
    log: ctx.log,
  });

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
  writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');

  const denseRow = summary.find((r) => r.family === 'dense')!;
  const points: PlotPoint[] = summary
    .filter((r) => r.family !== 'dense')
    .map((r) => ({ series: `${FAMILY_LABEL[r.family]} (${r.method})`, sparsity: r.sparsity, accuracy: r.accuracyMean, std: r.accuracyStd }));
  const plot = writeResultFile(ctx, files, 'plot', 'accuracy-vs-sparsity.svg', await accuracyPlotSvg(points, denseRow.accuracyMean, `Fashion-MNIST ${preset.architecture}, preset ${ctx.preset}: test accuracy at equal FLOPs`));

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
    `![accuracy against sparsity](${plot.split('/').at(-1)})`,
    '',
    `Rerun: \`npx sift reproduce fashion-mnist --preset ${ctx.preset} --seeds ${ctx.seeds}\``,
    '',
  ].join('\n');
  writeResultFile(ctx, files, 'results.md', 'results.md', md);
  return { files, table, summary: { experiment: 'fashion-mnist', preset: ctx.preset, wallSeconds, rows: summary, files } };
}
