/**
 * The `wallclock-cpu` experiment: the paper's efficiency claim timed on this machine's CPU. Sparse-IFT keeps
 * FLOPs equal to dense; this asks what the families cost in seconds on the native backend, as masked-dense
 * and on the sparse kernels, next to PyTorch (docs/reproducing-the-paper.md#wall-clock-on-cpu). Writes
 * results.json, results.md and per model the time ratio against sparsity (one SVG per measurement).
 */
import { loadavg } from 'node:os';
import { accuracyPlotSvg, FAMILY_LABEL, writeResultFile, type Experiment, type ExperimentContext, type ExperimentOutcome } from '@sparse-ift/reproduce';
import { describeMachine, PATH_LABEL, timeModel, type ModelTimings } from './measure.js';
import { PRESETS, resolveConfig } from './presets.js';
import { modelTitle, resultsMarkdown, type WallclockResults } from './report.js';

export const NAME = 'wallclock-cpu';

/** The timed paths are the native backend's (its sparse kernels and its sparse mode): elsewhere they would time something else. */
export function requireNativeBackend(backend: ExperimentContext['backend']): void {
  if (backend.name !== 'native') {
    throw new Error(
      `${NAME} times the native backend's sparse kernels and masked-dense path, but the backend in use is '${backend.name}'. ` +
        'Build the addon (npm run build:native -w @sparse-ift/backend) and run `sift reproduce wallclock-cpu --backend native`.',
    );
  }
}

async function writePlots(ctx: ExperimentContext, files: Record<string, string>, timings: ModelTimings, preset: string): Promise<string> {
  const measures = [
    { key: 'train', title: `training step (batch ${timings.plan.trainBatch})`, ratio: (r: ModelTimings['rows'][number]) => r.trainRatio },
    ...timings.plan.inferenceBatches.map((batch, i) => ({ key: `inference-b${batch}`, title: `inference latency (batch ${batch})`, ratio: (r: ModelTimings['rows'][number]) => r.inference[i]!.ratio })),
  ];
  let links = '';
  for (const measure of measures) {
    const points = timings.rows
      .filter((r) => r.family !== 'dense')
      .map((r) => ({ family: FAMILY_LABEL[r.family], method: PATH_LABEL[r.path], sparsity: r.sparsity, accuracy: measure.ratio(r), std: null }));
    const svg = await accuracyPlotSvg(points, 1, {
      title: `${modelTitle(timings)}: ${measure.title} ÷ dense (preset ${preset})`,
      subtitle: 'time ratio to the dense model on the same framework, this run; 1 = iso-time',
      yTitle: 'time ÷ dense',
      referenceLabel: () => 'dense = 1',
      methodTitle: 'path',
    });
    const name = `time-ratio-${timings.plan.model}-${measure.key}.svg`;
    writeResultFile(ctx, files, `plot-${timings.plan.model}-${measure.key}`, name, svg);
    links += `\n![${measure.title} ÷ dense, ${timings.plan.model}](${name})\n`;
  }
  return links;
}

export const WALLCLOCK_CPU: Experiment = {
  name: NAME,
  description: 'Wall-clock on CPU: training step and inference latency of every family × s against dense, masked-dense vs sparse kernels vs PyTorch (native backend)',
  presets: Object.fromEntries(Object.entries(PRESETS).map(([name, p]) => [name, { description: p.description, defaultSeeds: 1 }])),
  defaultPreset: 'default',
  async run(ctx: ExperimentContext): Promise<ExperimentOutcome> {
    const config = resolveConfig(ctx.preset);
    requireNativeBackend(ctx.backend);
    const started = Date.now();
    const threads = typeof ctx.backend['threads'] === 'number' ? ctx.backend['threads'] : 0;
    const machine = describeMachine(threads);
    ctx.log(`machine: ${machine.cores} cores (${machine.cpu}), sparse ISA ${machine.isa}, ${threads} threads`);
    const models = config.models.map((plan) => timeModel(config, plan, threads, ctx.log));
    machine.loadAverageAtEnd = loadavg();
    const results: WallclockResults = {
      experiment: NAME,
      preset: ctx.preset,
      config,
      backend: ctx.backend,
      backendLine: ctx.backendLine,
      machine,
      startedAt: new Date(started).toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
      models,
    };
    const files: Record<string, string> = {};
    writeResultFile(ctx, files, 'results.json', 'results.json', JSON.stringify(results, null, 2) + '\n');
    const md = resultsMarkdown(results);
    let plots = '';
    for (const m of models) plots += await writePlots(ctx, files, m, ctx.preset);
    writeResultFile(ctx, files, 'results.md', 'results.md', md.document + plots);
    return { files, table: md.table, summary: { experiment: NAME, preset: ctx.preset, wallSeconds: results.wallSeconds, machine, models, files } };
  },
};
