/** results.md's tables for CIFAR-100 (ours next to the paper's, docs/paper-results.md#cifar-100, #cifar-100-methods). */
import { FAMILY_LABEL, METHOD_LABEL, oursPaperColumns, scoreText, paperCellText as paperText, sgdRecipeText, type ResultsFile, type RowSummary } from '@sparse-ift/reproduce';
import type { LabelledData } from '@sparse-ift/train';
import { PAPER_NOTES, paperFamilyCell, paperMethodCell } from './paper.js';
import type { CifarConfig, CifarRow } from './presets.js';

function oursText(r: RowSummary | undefined): string {
  if (!r) return 'not run';
  return `${scoreText(r)} (${r.bestMean.toFixed(2)})`;
}

/** The paper's family × sparsity table (docs/paper-results.md#cifar-100): families (RigL) by sparsity, ours then paper's. */
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

/** The paper's by-method table (docs/paper-results.md#cifar-100-methods): Sparse Wide by sparse-training method. */
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
      `| ${FAMILY_LABEL[r.family]} | ${r.family === 'dense' ? '—' : r.sparsity} | ${r.method} | ${r.family === 'dense' ? '—' : r.maskSparsity.toFixed(4)} | ${scoreText(r)} | ${r.bestMean.toFixed(2)} | ${r.seeds} | ${r.params.toLocaleString('en-US')} | ${r.nonzeroParams.toLocaleString('en-US')} | ${r.sparseFlops.toLocaleString('en-US')} | ${r.flopRatio.toFixed(4)} | ${r.realisedDensity.toFixed(4)} | ${r.wallSecondsMean.toFixed(1)} |`,
  );
  return [head, ...lines].join('\n');
}

export function resultsMarkdown(results: ResultsFile<CifarConfig, CifarRow>, data: { train: LabelledData; test: LabelledData; source: string }): { document: string; table: string } {
  const { config, rows } = results;
  const sparsities = [...new Set(config.rows.filter((r) => r.family !== 'dense').map((r) => r.sparsity))];
  const families = familyTable(rows, sparsities);
  const r = config.recipe;
  const document = [
    `# CIFAR-100 ResNet-18: Sparse-IFT families at equal FLOPs (preset \`${results.preset}\`)`,
    '',
    `- ${results.backendLine}`,
    `- data: ${data.source}; ${data.train.count} train / ${data.test.count} test images`,
    `- model: ${config.arch.name} (W = ${config.arch.baseWidth}); SF middle ${config.model.factorizedMiddle}; SD U, V dense; Sparse Wide FLOP-budget search on`,
    `- recipe: ${sgdRecipeText(r.optimizer)}, batch ${r.batchSize}, ${r.epochs} epochs, ${JSON.stringify(r.schedule)}`,
    `- masks: uniform, random init, ΔT ${config.mask.frequency}, α₀ ${config.mask.dropFraction} cosine, end ${config.mask.endFraction}`,
    `- seeds: ${results.seeds}; wall time ${(results.wallSeconds / 60).toFixed(1)} min`,
    '',
    '## Paper: CIFAR-100 ResNet-18, family × sparsity (RigL), top-1 %',
    '',
    'Ours: last-epoch accuracy (best epoch in brackets). Paper: value and source tag, or NOT FOUND.',
    '',
    families,
    '',
    ...(config.rows.some((row) => row.tables.includes('methods')) ? ['## Paper: CIFAR-100 ResNet-18, Sparse Wide by sparse-training method, top-1 %', '', methodTable(rows, sparsities), ''] : []),
    '## Every row',
    '',
    detailTable(rows),
    '',
    '## Notes',
    '',
    ...PAPER_NOTES.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return { document, table: families };
}
