/** results.md for Fashion-MNIST: every row's test accuracy over seeds next to dense, at equal FLOPs. */
import { FAMILY_LABEL, scoreText, signedDelta, type GridRow, type ResultsFile, type RowSummary } from '@sparse-ift/reproduce';
import type { LabelledData } from '@sparse-ift/train';
import type { FashionConfig } from './presets.js';

export function markdownTable(rows: RowSummary[]): string {
  const dense = rows.find((r) => r.family === 'dense');
  const header =
    '| family | s | method | mask s | test acc. % (mean ± std) | Δ vs dense | seeds | params | non-zero params | FLOPs/sample | iso-FLOP ratio | wall s/run |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const delta = dense && r !== dense ? signedDelta(r.mean, dense.mean) : '—';
    return `| ${FAMILY_LABEL[r.family]} | ${r.family === 'dense' ? '—' : r.sparsity} | ${r.method} | ${r.family === 'dense' ? '—' : r.maskSparsity.toFixed(3)} | ${scoreText(r)} | ${delta} | ${r.seeds} | ${r.params.toLocaleString('en-US')} | ${r.nonzeroParams.toLocaleString('en-US')} | ${r.sparseFlops.toLocaleString('en-US')} | ${r.flopRatio.toFixed(3)} | ${r.wallSecondsMean.toFixed(1)} |`;
  });
  return [header, ...lines].join('\n');
}

export function resultsMarkdown(results: ResultsFile<FashionConfig, GridRow>, data: { train: LabelledData; test: LabelledData; source: string }): { document: string; table: string } {
  const table = markdownTable(results.rows);
  const document = [
    `# Fashion-MNIST: Sparse-IFT families at equal FLOPs (preset \`${results.preset}\`)`,
    '',
    `${results.config.description}.`,
    '',
    `- ${results.backendLine}`,
    `- data: ${data.source}; ${data.train.count} train / ${data.test.count} test images`,
    `- seeds: ${results.seeds}; total wall time ${(results.wallSeconds / 60).toFixed(1)} min`,
    '- FLOPs: forward FLOPs per sample with the official counter (docs/flops.md#official-counter) at the realised mask densities; the iso-FLOP ratio divides by the dense baseline.',
    '- Sparse Wide: widths from `sparseWideWidth`, mask sparsity solved to meet the dense budget (docs/flops.md#sparse-wide-budget), shown as "mask s".',
    '',
    table,
    '',
    `Rerun: \`npx sift reproduce fashion-mnist --preset ${results.preset} --seeds ${results.seeds}\``,
    '',
  ].join('\n');
  return { document, table };
}
