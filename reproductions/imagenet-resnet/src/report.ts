/** results.md for ImageNet: the paper's table (docs/paper-results.md#imagenet) with our top-1 next to the paper's cells. */
import { oursPaperColumns, paperCellText as paperText, sgdRecipeText, type ResultsFile, type RowSummary } from '@sparse-ift/reproduce';
import { PAPER_NOTES, paperImageNetCell, type ImageNetModel } from './paper.js';
import type { ImageNetData } from './data.js';
import type { ImageNetConfig, ImageNetRow } from './presets.js';

/** Last-epoch top-1 % over seeds, best epoch in brackets. */
function ours(row: RowSummary | undefined): string {
  return row ? `${row.mean.toFixed(2)} (${row.bestMean.toFixed(2)})` : 'not run';
}

export function resultsMarkdown(results: ResultsFile<ImageNetConfig, ImageNetRow>, data: ImageNetData): { document: string; table: string } {
  const { config, runs, rows } = results;
  const images = data.kind === 'memory' ? `${data.train.count} train images / ${data.test.count} validation images` : `${data.trainImages} train images, all validation shards`;
  const sparsities = [...new Set(config.rows.filter((r) => r.family !== 'dense').map((r) => r.sparsity))];
  const models = [...new Set(config.rows.map((r) => r.model))];
  const wide = oursPaperColumns(sparsities, 'SW ');
  const parallel = oursPaperColumns(sparsities, 'SP ');
  const head = `| model | dense ours | dense paper | ${wide.head} | ${parallel.head} |`;
  const rule = `|---|---|---|${wide.rule}|${parallel.rule}|`;
  const name: Record<ImageNetModel, string> = { resnet18: 'ResNet-18', resnet34: 'ResNet-34' };
  const lines = models.map((model) => {
    const pick = (family: string, s: number) => rows.find((r) => r.model === model && r.family === family && r.sparsity === s);
    const cells = [`${ours(pick('dense', 0))} | ${paperText(paperImageNetCell(model, 'dense', 0))}`];
    for (const s of sparsities) cells.push(`${ours(pick('sparse-wide', s))} | ${paperText(paperImageNetCell(model, 'sparse-wide', s))}`);
    for (const s of sparsities) cells.push(model === 'resnet18' ? `${ours(pick('sparse-parallel', s))} | ${paperText(paperImageNetCell(model, 'sparse-parallel', s))}` : '— | —');
    return `| ${name[model]} | ${cells.join(' | ')} |`;
  });
  const table = [head, rule, ...lines].join('\n');
  const detail = [
    '| run | mask s | last top-1 % | best top-1 % | params | non-zero params | FLOPs/image | iso-FLOP ratio | realised density | wall s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.id} | ${r.family === 'dense' ? '—' : r.maskSparsity.toFixed(4)} | ${(100 * r.test.accuracy!).toFixed(2)} | ${(100 * r.best.test.accuracy!).toFixed(2)} | ${r.params.toLocaleString('en-US')} | ${r.nonzeroParams.toLocaleString('en-US')} | ${r.sparseFlops.toLocaleString('en-US')} | ${r.flopRatio.toFixed(4)} | ${r.realisedDensity.toFixed(4)} | ${r.wallSeconds.toFixed(1)} |`),
  ].join('\n');
  const document = [
    `# ImageNet ResNet-18 / ResNet-34: dense vs Sparse Wide / Parallel (preset \`${results.preset}\`)`,
    '',
    `- ${results.backendLine}`,
    `- data: ${data.source} (${data.shards.layout}; ${images} at ${config.imageSize}²${data.kind === 'stream' ? ', streamed' : ''})`,
    `- recipe: ${sgdRecipeText(config.recipe.optimizer)}, label smoothing ${config.recipe.labelSmoothing}, batch ${config.recipe.batchSize}, ${config.recipe.epochs} epochs, ${JSON.stringify(config.recipe.schedule)}`,
    `- masks: RigL, uniform, random init, ΔT ${config.mask.frequency}, α₀ ${config.mask.dropFraction} cosine, end ${config.mask.endFraction}; Sparse Wide FLOP-budget search on`,
    `- input: ${config.imageSize}²${config.inMemory ? ", decoded once (resize + centre crop), flip per batch (not the paper's random-resized-crop)" : ', streamed: random-resized-crop + flip (train), resize + centre crop (validation)'}`,
    `- seeds: ${results.seeds}; wall time ${(results.wallSeconds / 60).toFixed(1)} min`,
    '',
    '## Paper: ImageNet ResNet-18 / ResNet-34, top-1 % (ours: last epoch, best in brackets)',
    '',
    table,
    '',
    '## Every run',
    '',
    detail,
    '',
    '## Notes',
    '',
    ...PAPER_NOTES.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return { document, table };
}
