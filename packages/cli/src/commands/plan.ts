/**
 * `sift plan <model> --family F --sparsity S [--convention official|paper] [--json]`: the per-layer
 * FLOP and parameter audit of a registered model against its dense baseline (spec §3.10, §6.3).
 * Uses the definition's op list (no weights allocated) unless `--walk` asks to build the tf.js model
 * and read it (realised mask densities).
 */
import type { Command } from 'commander';
import {
  FAMILIES,
  getModelDefinition,
  isFamily,
  listModels,
  modelExtraParams,
  modelFlopOps,
  modelOpList,
  planFromOps,
  resolveModelOptions,
  createModel,
  type FlopConvention,
  type ModelOptions,
  type ModelPlan,
} from '@sparse-ift/core';
// The zoo packages register their models with core's registry when imported.
import '@sparse-ift/resnet';
import '@sparse-ift/gpt';
import '@sparse-ift/vit';
import '@sparse-ift/mixer';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';

interface PlanFlags {
  family: string;
  sparsity?: string;
  convention: string;
  json?: boolean;
  walk?: boolean;
  opt?: string[];
  seed?: string;
}

/** `key=value` → option; values parse as JSON when they can (true, 10, [28,28,1]), else as strings. */
function parseOpt(entry: string): [string, unknown] {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new UsageError(`--opt needs key=value, got '${entry}'`);
  const key = entry.slice(0, eq);
  const raw = entry.slice(eq + 1);
  try {
    return [key, JSON.parse(raw) as unknown];
  } catch {
    return [key, raw];
  }
}

function parseFlags(modelName: string, flags: PlanFlags): { opts: ModelOptions; convention: FlopConvention } {
  const models = listModels().map((d) => d.name);
  if (!models.includes(modelName)) {
    throw new UsageError(`unknown model '${modelName}'; valid models: ${models.join(', ') || '(none registered)'}`);
  }
  const def = getModelDefinition(modelName);
  if (!isFamily(flags.family) || !def.families.includes(flags.family)) {
    throw new UsageError(`unknown family '${flags.family}' for ${modelName}; valid families: ${def.families.join(', ')}`);
  }
  const sparsity = flags.sparsity === undefined ? (flags.family === 'dense' ? 0 : Number.NaN) : Number(flags.sparsity);
  if (flags.sparsity === undefined && flags.family !== 'dense') {
    throw new UsageError(`--sparsity is required for family '${flags.family}': a number in (0, 1), e.g. 0.5, 0.75 or 0.9`);
  }
  const sparsityOk = Number.isFinite(sparsity) && (flags.family === 'dense' ? sparsity === 0 : sparsity > 0 && sparsity < 1);
  if (!sparsityOk) {
    throw new UsageError(
      flags.family === 'dense'
        ? `family 'dense' takes sparsity 0, got '${flags.sparsity}'`
        : `bad --sparsity '${flags.sparsity}': use a number in (0, 1), e.g. 0.5, 0.75 or 0.9`,
    );
  }
  if (flags.convention !== 'official' && flags.convention !== 'paper') {
    throw new UsageError(`unknown --convention '${flags.convention}'; valid: official, paper`);
  }
  const opts: ModelOptions = { family: flags.family, sparsity };
  if (flags.seed !== undefined) {
    const seed = Number(flags.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${flags.seed}'`);
    opts.seed = seed;
  }
  for (const entry of flags.opt ?? []) {
    const [k, v] = parseOpt(entry);
    opts[k] = v;
  }
  try {
    resolveModelOptions(def, opts);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { opts, convention: flags.convention };
}

/** The plan of a registered model (op list, or the built model with `walk`). */
export function planFor(modelName: string, opts: ModelOptions, convention: FlopConvention, walk = false): ModelPlan {
  const baseline = modelOpList(modelName, { ...opts, family: 'dense', sparsity: 0 });
  if (!walk) return planFromOps(modelOpList(modelName, opts), baseline, { convention });
  // The op list says which layers a family transforms (plain Conv2D/Dense in the dense model).
  const listed = modelOpList(modelName, opts).ops;
  const maskable = new Set(listed.filter((o) => o.maskable ?? ((o.kind === 'conv2d' || o.kind === 'linear') && o.masked)).map((o) => o.name));
  const model = createModel(modelName, opts);
  try {
    const ops = modelFlopOps(model, { maskable: (layer) => maskable.has(layer.name) || layer.getClassName().startsWith('Masked') });
    return planFromOps({ ops, extraParams: modelExtraParams(model) }, baseline, { convention });
  } finally {
    model.dispose();
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const ratio = (r: number): string => (Number.isFinite(r) ? r.toFixed(4) : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

export function formatPlan(modelName: string, opts: ModelOptions, plan: ModelPlan): string {
  const conv = plan.totals.convention;
  const head = ['layer', 'role', 'shape', 'params', 'weight', 'density', `dense ${conv}`, `sparse ${conv}`];
  const body = plan.rows.map((r) => [
    r.name,
    r.role,
    r.shape.length ? r.shape.join('×') : '-',
    r.params ? fmt(r.params) : '-',
    r.masked ? 'masked' : r.params ? 'dense' : '-',
    r.masked ? r.density.toFixed(4) : '-',
    fmt(r.denseFlops),
    fmt(r.sparseFlops),
  ]);
  const lines = [
    `${modelName}  family ${opts.family}  sparsity ${opts.sparsity}  (FLOPs per sample, forward)`,
    '',
    table([head, ...body]),
    '',
    `params ${fmt(plan.totals.params)} (masked ${fmt(plan.totals.maskedParams)}, non-zero ≈ ${fmt(Math.round(plan.totals.nonZeroParams))})`,
  ];
  for (const c of ['official', 'paper'] as const) {
    const t = plan.byConvention[c];
    lines.push(
      `${c.padEnd(8)} whole network: dense model ${fmt(t.wholeNetwork.denseFlops)}, this model ${fmt(t.wholeNetwork.sparseFlops)} → ratio ${ratio(t.wholeNetwork.flopRatio)} (all masks full: ${fmt(t.wholeNetwork.instantiatedDenseFlops)})`,
      `${''.padEnd(8)} masked layers only: dense model ${fmt(t.maskedLayers.denseFlops)}, this model ${fmt(t.maskedLayers.sparseFlops)} → ratio ${ratio(t.maskedLayers.flopRatio)}`,
    );
  }
  return lines.join('\n');
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('per-layer params and FLOPs of a registered model under a Sparse-IFT family, against the dense model')
    .argument('<model>', 'registered model name (an unknown name lists the valid ones)')
    .option('--family <family>', `one of ${FAMILIES.join(', ')}`, 'dense')
    .option('--sparsity <s>', 'sparsity s in (0, 1) (0 for dense)')
    .option('--convention <c>', 'FLOP convention of the table: official (Cerebras counter) | paper (MACs)', 'official')
    .option('--opt <key=value...>', 'model-specific option, e.g. dopedMaskLowRank=true, numClasses=10')
    .option('--seed <n>', 'seed (only matters with --walk)')
    .option('--walk', 'build the tf.js model and read it (realised mask densities; slow for big models)')
    .option('--json', 'print one JSON object')
    .action(async (modelName: string, flags: PlanFlags) => {
      const { opts, convention } = parseFlags(modelName, flags);
      const plan = planFor(modelName, opts, convention, flags.walk === true);
      if (flags.json) {
        printJson({
          model: modelName,
          family: opts.family,
          sparsity: opts.sparsity,
          convention,
          options: opts,
          reference: plan.reference,
          layers: plan.rows,
          totals: plan.totals,
          views: plan.byConvention,
        });
      } else {
        process.stdout.write(`${formatPlan(modelName, opts, plan)}\n`);
      }
    });
}
