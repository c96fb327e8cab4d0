/**
 * The `gpt3-small-wikitext103` experiment (spec §4.3 / §5.5): dense, Sparse Wide 50 % static and Sparse
 * Wide 75 % RigL, trained on WikiText-103 and compared by validation perplexity.
 */
import { join } from 'node:path';
import { collectMaskedParams, countFlops, modelFlopOps, type Family } from '@sparse-ift/core';
import { buildGpt, transformerWidths } from '@sparse-ift/gpt';
import { modelFootprint, prepareStateDir, runGrid, writeResultFile, type ExperimentContext, type ExperimentOutcome, type ModelFootprint, type RunState } from '@sparse-ift/reproduce';
import type { MaskMethod } from '@sparse-ift/train';
import { loadWikiText } from './data.js';
import { trainLanguageModel, type EvalPoint } from './lm-train.js';
import { resolveConfig, type GptExperimentConfig, type GptRow } from './presets.js';
import { resultsMarkdown } from './report.js';

type WikiText = Awaited<ReturnType<typeof loadWikiText>>;

/** One trained run. Its footprint's FLOPs are per sequence (official counter, spec §3.10). */
export interface GptRunRecord extends ModelFootprint {
  id: string;
  family: Family;
  sparsity: number;
  method: MaskMethod;
  seed: number;
  dModel: number;
  dFf: number;
  /** Validation perplexity after the last step (the table's number) and at each evaluation. */
  finalPerplexity: number;
  finalValidLoss: number;
  evals: EvalPoint[];
  finalTrainLoss: number;
  steps: number;
  wallSeconds: number;
  backend: string;
}

function runId(config: GptExperimentConfig, row: GptRow, seed: number): string {
  return `${config.model.name}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
}

async function trainOne(config: GptExperimentConfig, row: GptRow, seed: number, id: string, data: WikiText, denseFlops: number, ctx: ExperimentContext, state: RunState): Promise<GptRunRecord> {
  const model = buildGpt(config.model, { family: row.family, sparsity: row.sparsity, seed, sequenceLength: config.context });
  try {
    const result = await trainLanguageModel({
      model,
      method: row.method,
      seed,
      config,
      train: data.train.tokens,
      validation: data.validation.tokens,
      tensorboardDir: join(ctx.outDir, 'tensorboard', id),
      checkpointFile: state.checkpointFile(id),
      checkpointEvery: 250,
      resume: ctx.resume,
      label: id,
      log: ctx.log,
    });
    const widths = transformerWidths(config.model, row.family, row.sparsity);
    const last = result.evals.at(-1)!;
    return {
      id,
      family: row.family,
      sparsity: row.sparsity,
      method: row.method,
      seed,
      dModel: widths.dModel,
      dFf: widths.dFf,
      finalPerplexity: last.perplexity,
      finalValidLoss: last.loss,
      evals: result.evals,
      finalTrainLoss: result.finalTrainLoss,
      ...modelFootprint(model, collectMaskedParams(model), denseFlops),
      steps: result.steps,
      wallSeconds: result.wallSeconds,
      backend: ctx.backend.name,
    };
  } finally {
    model.dispose();
  }
}

export async function runGpt3SmallWikiText103(ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const config = resolveConfig(ctx.preset);
  const started = Date.now();
  const data = await loadWikiText(ctx.dataDir, ctx.log);
  const state = prepareStateDir(ctx);

  // Dense FLOPs per sequence: the iso-FLOP reference.
  const denseModel = buildGpt(config.model, { family: 'dense', sparsity: 0, sequenceLength: config.context });
  const denseFlops = countFlops(modelFlopOps(denseModel), 'official').dense;
  denseModel.dispose();

  const runs = await runGrid({
    rows: config.rows,
    seeds: ctx.seeds,
    state,
    runId: (row, seed) => runId(config, row, seed),
    trainOne: (row, seed, id) => trainOne(config, row, seed, id, data, denseFlops, ctx, state),
    describe: (record) => `valid perplexity ${record.finalPerplexity.toFixed(2)}, FLOP ratio ${record.flopRatio.toFixed(3)}`,
    log: ctx.log,
  });

  const wallSeconds = (Date.now() - started) / 1000;
  const results = {
    experiment: 'gpt3-small-wikitext103',
    preset: ctx.preset,
    config,
    seeds: ctx.seeds,
    backend: ctx.backend,
    backendLine: ctx.backendLine,
    data: { source: data.source, trainTokens: data.train.tokens.length, validationTokens: data.validation.tokens.length, tokenizer: data.train.tokenizer },
    startedAt: new Date(started).toISOString(),
    wallSeconds,
    tableMetric: 'validation perplexity after the last step',
    flopConvention: 'official (Cerebras counter, spec §3.10), forward FLOPs per sequence at realised mask densities; only the masked linears are iso-FLOP (spec §6.3)',
    runs,
  };
  const files: Record<string, string> = {};
  writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');
  const md = resultsMarkdown({ preset: ctx.preset, config, runs, backendLine: ctx.backendLine, source: data.source, seeds: ctx.seeds, wallSeconds });
  writeResultFile(ctx, files, 'results.md', 'results.md', md.document);
  return { files, table: md.table, summary: { experiment: 'gpt3-small-wikitext103', preset: ctx.preset, runs: runs.map(({ evals: _evals, ...r }) => r), wallSeconds } };
}
