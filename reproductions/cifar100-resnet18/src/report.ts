/** Per-row summaries over seeds and the results.md tables (ours next to the paper's, spec §5.1 / §5.2). */
import type { Family } from '@sparse-ift/core';
import { FAMILY_LABEL, groupByRow, mean, meanFootprint, rowHeader, oursPaperColumns, paperCellText as paperText, sampleStd as std, sgdRecipeText } from '@sparse-ift/reproduce';
import type { MaskMethod } from '@sparse-ift/train';
import type { RunRecord } from './experiment.js';
import { PAPER_NOTES, paperFamilyCell, paperMethodCell } from './paper.js';
import type { CifarConfig } from './presets.js';

export interface RowSummary {
  family: Family;
  sparsity: number;
  method: MaskMethod;
  maskSparsity: number;
  seeds: number;
  /** Top-1 % over seeds: last epoch (the tables) and best epoch. */
  lastMean: number;
  lastStd: number;
  bestMean: number;
  params: number;
  nonzeroParams: number;
  sparseFlops: number;
  flopRatio: number;
  realisedDensity: number;
  wallSecondsMean: number;
}

export function summarise(runs: RunRecord[]): RowSummary[] {
  return groupByRow(runs).map((rs) => ({
    ...rowHeader(rs),
    lastMean: 100 * mean(rs.map((r) => r.lastTestAccuracy)),
    lastStd: 100 * std(rs.map((r) => r.lastTestAccuracy)),
    bestMean: 100 * mean(rs.map((r) => r.bestTestAccuracy)),
    ...meanFootprint(rs),
  }));
}

const METHOD_LABEL: Record<MaskMethod, string> = { dense: 'dense', static: 'Static', set: 'SET', rigl: 'RigL' };

function oursText(r: RowSummary | undefined): string {
  if (!r) return 'not run';
  const spread = r.seeds > 1 ? ` ± ${r.lastStd.toFixed(2)}` : '';
  return `${r.lastMean.toFixed(2)}${spread} (${r.bestMean.toFixed(2)})`;
}

/** Spec §5.1's table: families (RigL) by sparsity, ours then paper's. */
export function familyTable(rows: RowSummary[], sparsities: number[]): string {
  const columns = oursPaperColumns(sparsities);
  const head = `| | ${columns.head} |`;
  const rule = `|---|${columns.rule}|`;
  const lines = (['dense', 'sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'] as const).map((family) => {
    const cells = sparsities.map((s) => {
      const ours = family === 'dense' ? rows.find((r) => r.family === 'dense') : rows.find((r) => r.family === family && r.sparsity === s && r.method === 'rigl');
      return `${oursText(ours)} | ${paperText(paperFamilyCell(family, s))}`;
    });
    return `| ${FAMILY_LABEL[family]}${family === 'dense' ? '' : ' (RigL)'} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...lines].join('\n');
}

/** Spec §5.2's table: Sparse Wide by sparse-training method. */
export function methodTable(rows: RowSummary[], sparsities: number[]): string {
  const columns = oursPaperColumns(sparsities);
  const head = `| Sparse Wide | ${columns.head} |`;
  const rule = `|---|${columns.rule}|`;
  const lines = (['static', 'set', 'rigl'] as const).map((method) => {
    const cells = sparsities.map((s) => `${oursText(rows.find((r) => r.family === 'sparse-wide' && r.sparsity === s && r.method === method))} | ${paperText(paperMethodCell(method, s))}`);
    return `| ${METHOD_LABEL[method]} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...lines].join('\n');
}

export function detailTable(rows: RowSummary[]): string {
  const head =
    '| family | s | method | mask s | last-epoch top-1 % | best-epoch top-1 % | seeds | params | non-zero params | FLOPs/sample | iso-FLOP ratio | realised density | wall s/run |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) =>
      `| ${FAMILY_LABEL[r.family]} | ${r.family === 'dense' ? '—' : r.sparsity} | ${r.method} | ${r.family === 'dense' ? '—' : r.maskSparsity.toFixed(4)} | ${r.lastMean.toFixed(2)} ± ${r.lastStd.toFixed(2)} | ${r.bestMean.toFixed(2)} | ${r.seeds} | ${r.params.toLocaleString('en-US')} | ${r.nonzeroParams.toLocaleString('en-US')} | ${r.sparseFlops.toLocaleString('en-US')} | ${r.flopRatio.toFixed(4)} | ${r.realisedDensity.toFixed(4)} | ${r.wallSecondsMean.toFixed(1)} |`,
  );
  return [head, ...lines].join('\n');
}

export function resultsMarkdown(args: {
  preset: string;
  config: CifarConfig;
  rows: RowSummary[];
  backendLine: string;
  source: string;
  trainImages: number;
  testImages: number;
  seeds: number;
  wallSeconds: number;
}): { document: string; familyTable: string } {
  const { config, rows } = args;
  const sparsities = [...new Set(config.rows.filter((r) => r.family !== 'dense').map((r) => r.sparsity))];
  const families = familyTable(rows, sparsities);
  const r = config.recipe;
  const document = [
    `# CIFAR-100 ResNet-18: Sparse-IFT families at equal FLOPs (preset \`${args.preset}\`)`,
    '',
    `- ${args.backendLine}`,
    `- data: ${args.source}; ${args.trainImages} train / ${args.testImages} test images`,
    `- model: ${config.arch.name} (W = ${config.arch.baseWidth}); SF middle ${config.model.factorizedMiddle}; SD U, V dense; Sparse Wide FLOP-budget search on`,
    `- recipe: ${sgdRecipeText(r.optimizer)}, batch ${r.batchSize}, ${r.epochs} epochs, ${JSON.stringify(r.schedule)}`,
    `- masks: uniform, random init, ΔT ${config.mask.frequency}, α₀ ${config.mask.dropFraction} cosine, end ${config.mask.endFraction}`,
    `- seeds: ${args.seeds}; wall time ${(args.wallSeconds / 60).toFixed(1)} min`,
    '',
    '## Spec §5.1: family × sparsity (RigL), top-1 %',
    '',
    'Ours: last-epoch accuracy (best epoch in brackets). Paper: value and source tag, or NOT FOUND.',
    '',
    families,
    '',
    ...(config.rows.some((row) => row.tables.includes('methods')) ? ['## Spec §5.2: Sparse Wide by sparse-training method, top-1 %', '', methodTable(rows, sparsities), ''] : []),
    '## Every row',
    '',
    detailTable(rows),
    '',
    '## Notes',
    '',
    ...PAPER_NOTES.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return { document, familyTable: families };
}
