/**
 * A paper reproduction as its presets, grid rows, one function that trains a row and one that writes its
 * tables. `reproduction(spec)` makes it the experiment `sift reproduce` runs: the state folder, the
 * (seed × row) grid resumed on --resume, one record per run, per-row summaries over seeds, results.json,
 * results.md and the accuracy-against-sparsity plots.
 */
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { exportModel, type ExportedModelInfo } from '@sparse-ift/core';
import type { TrainConfig, TrainResult } from '@sparse-ift/train';
import type { Experiment, ExperimentContext, ExperimentOutcome, PresetInfo } from './experiments.js';
import { accuracyPlotSvg } from './plot.js';
import { FAMILY_LABEL, METHOD_LABEL, notLearningNote, writeResultFile } from './results-report.js';
import { runGrid, type ModelFootprint } from './run-grid.js';
import { runRecord, runRecordProblem, summariseRow, type GridRow, type RowSummary, type RunRecord, type Score } from './run-record.js';
import { prepareStateDir } from './run-state.js';

/** The trainer settings a run owes to the experiment's context: its checkpoint, logs and resume. */
export type RunOptions = Required<Pick<TrainConfig, 'checkpointFile' | 'resume' | 'tensorboardDir' | 'progress' | 'label' | 'log'>>;

/** What training one row gives: the trainer's result, the trained model, its masks and footprint. */
export interface TrainedRun {
  result: TrainResult;
  footprint: ModelFootprint;
  maskSparsity: number;
  /**
   * The trained model. The runner exports it (core's `exportModel`) to `<out>/models/<run id>` and then
   * disposes of it; `train` disposes of it itself only when it throws.
   */
  model: LayersModel;
}

/** Where the runner exports run `id`'s trained model, relative to the --out folder. */
export const exportedModelDir = (id: string): string => `models/${id}`;

/** results.json: the same fields for every reproduction. */
export interface ResultsFile<Config, Row extends GridRow> {
  experiment: string;
  preset: string;
  config: Config;
  seeds: number;
  backend: ExperimentContext['backend'];
  backendLine: string;
  /** What the reproduction says about its data (source, sizes). */
  data: unknown;
  startedAt: string;
  wallSeconds: number;
  tableMetric: string;
  flopConvention: string;
  rows: RowSummary<Row>[];
  runs: RunRecord<Row>[];
}

export interface Reproduction<Config extends { rows: readonly Row[] }, Row extends GridRow, Data> {
  name: string;
  description: string;
  presets: Record<string, PresetInfo>;
  defaultPreset: string;
  /** The preset's resolved configuration, its grid rows included; results.json stores it. */
  configure(preset: string): Config;
  /** The number the tables compare. */
  score: Score;
  /** What results.json says the table's number is, and how FLOPs are counted. */
  tableMetric(config: Config): string;
  flopConvention: string;
  /** Loads the data every run shares: `about` goes into results.json, `line` to the log. */
  load(config: Config, ctx: ExperimentContext): Promise<{ data: Data; about: unknown; line: string }>;
  /** The model's name in run ids, `<model>-<family>-s<s>-<method>-seed<seed>`. */
  modelName(config: Config, row: Row): string;
  /**
   * What every exported model of this reproduction records about its inputs: the data set (as `sift
   * evaluate --data` names it) and, when not that data set's standard pipeline, the preprocessing.
   */
  exportInfo(config: Config, data: Data): Pick<ExportedModelInfo, 'dataset' | 'preprocess'>;
  /** Builds the row's model, trains it with `options` spread into the trainer's settings, and measures it. */
  train(run: { config: Config; row: Row; seed: number; data: Data; options: RunOptions; backend: ExperimentContext['backend'] }): Promise<TrainedRun>;
  /** results.md (without the plots, which are appended) and the table printed at the end. */
  report(results: ResultsFile<Config, Row>, data: Data): { document: string; table: string };
  /** Accuracy-against-sparsity plots: one per `group` of rows that has a dense row (default: one for all). */
  plot?: { title(config: Config, group: string): string; group?(row: Row): string };
}

/** The log line after a run: its score after the last step and its FLOP ratio. */
function describeRun(record: RunRecord, score: Score): string {
  const value = score.scale * (record.test[score.metric] ?? NaN);
  return `${score.metric} ${value.toFixed(2)}${score.scale === 100 ? '%' : ''}, FLOP ratio ${record.flopRatio.toFixed(3)}, ${record.wallSeconds.toFixed(1)} s`;
}

/** What an exported model.json says about the run that trained it. */
function exportedRunInfo(experiment: string, preset: string, record: RunRecord, score: Score): NonNullable<ExportedModelInfo['run']> {
  return {
    experiment,
    preset,
    id: record.id,
    family: record.family,
    sparsity: record.sparsity,
    maskSparsity: record.maskSparsity,
    method: record.method,
    seed: record.seed,
    [`test ${score.metric}`]: record.test[score.metric] ?? null,
  };
}

async function writePlots<Config extends { rows: readonly Row[] }, Row extends GridRow>(
  spec: NonNullable<Reproduction<Config, Row, unknown>['plot']>,
  config: Config,
  rows: RowSummary<Row>[],
  ctx: ExperimentContext,
  files: Record<string, string>,
): Promise<string> {
  const groupOf = spec.group ?? (() => '');
  let links = '';
  for (const group of [...new Set(config.rows.map(groupOf))]) {
    const own = rows.filter((r) => groupOf(r) === group);
    const dense = own.find((r) => r.family === 'dense');
    if (!dense) continue;
    const points = own.filter((r) => r.family !== 'dense').map((r) => ({ family: FAMILY_LABEL[r.family], method: METHOD_LABEL[r.method], sparsity: r.sparsity, accuracy: r.mean, std: r.std }));
    const suffix = group ? `-${group}` : '';
    const subtitle = ctx.seeds > 1 ? `mean over ${ctx.seeds} seeds; bars: ± one sample std` : 'one seed: no spread measured, no error bars';
    const svg = await accuracyPlotSvg(points, dense.mean, { title: spec.title(config, group), subtitle });
    const plot = writeResultFile(ctx, files, `plot${suffix}`, `accuracy-vs-sparsity${suffix}.svg`, svg);
    links += `\n![accuracy against sparsity](${plot.split('/').at(-1)})\n`;
  }
  return links;
}

export function reproduction<Config extends { rows: readonly Row[] }, Row extends GridRow, Data>(spec: Reproduction<Config, Row, Data>): Experiment {
  const run = async (ctx: ExperimentContext): Promise<ExperimentOutcome> => {
    const config = spec.configure(ctx.preset);
    const started = Date.now();
    // The state folder first: a second start without --resume or --force stops before loading any data.
    const state = prepareStateDir(ctx, { experiment: spec.name, config });
    const { data, about, line } = await spec.load(config, ctx);
    ctx.log(line);
    const runId = (row: Row, seed: number): string => `${spec.modelName(config, row)}-${row.family}-s${row.sparsity}-${row.method}-seed${seed}`;
    const runs = await runGrid({
      rows: config.rows,
      seeds: ctx.seeds,
      state,
      runId,
      trainOne: async (row, seed, id, label) => {
        const options: RunOptions = { checkpointFile: state.checkpointFile(id), resume: ctx.resume, tensorboardDir: join(ctx.outDir, 'tensorboard', id), progress: ctx.progress, label, log: ctx.log };
        const trained = await spec.train({ config, row, seed, data, options, backend: ctx.backend });
        try {
          const record = runRecord({ id, row, seed, maskSparsity: trained.maskSparsity, result: trained.result, footprint: trained.footprint, score: spec.score, backend: ctx.backend.name });
          // Exported before the run counts as finished, so a run interrupted while exporting is trained again on --resume.
          const exportDir = exportedModelDir(id);
          await exportModel(trained.model, join(ctx.outDir, exportDir), { ...spec.exportInfo(config, data), run: exportedRunInfo(spec.name, ctx.preset, record, spec.score) });
          return { ...record, exportDir };
        } finally {
          trained.model.dispose();
        }
      },
      describe: (record) => describeRun(record, spec.score),
      check: runRecordProblem,
      log: ctx.log,
    });
    const rows = config.rows.map((row) => summariseRow(row, runs.filter((r) => r.id === runId(row, r.seed)), spec.score));

    const results: ResultsFile<Config, Row> = {
      experiment: spec.name,
      preset: ctx.preset,
      config,
      seeds: ctx.seeds,
      backend: ctx.backend,
      backendLine: ctx.backendLine,
      data: about,
      startedAt: new Date(started).toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
      tableMetric: spec.tableMetric(config),
      flopConvention: spec.flopConvention,
      rows,
      runs,
    };
    const files: Record<string, string> = {};
    writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');
    const md = spec.report(results, data);
    const plots = spec.plot ? await writePlots(spec.plot, config, rows, ctx, files) : '';
    // Runs whose loss never left chance are named loudly, between the tables and the plots.
    const note = notLearningNote(runs);
    writeResultFile(ctx, files, 'results.md', 'results.md', md.document + (note ? `\n${note}` : '') + plots);
    return { files, table: md.table, summary: { experiment: spec.name, preset: ctx.preset, wallSeconds: results.wallSeconds, rows, files } };
  };
  return { name: spec.name, description: spec.description, presets: spec.presets, defaultPreset: spec.defaultPreset, run };
}
