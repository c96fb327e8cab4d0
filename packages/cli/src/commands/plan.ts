/**
 * `sift plan <model> --family F --sparsity S [--convention official|paper] [--json]`: the per-layer
 * FLOP and parameter audit of a registered model against its dense baseline (docs/flops.md#official-counter, in both views: docs/flops.md#plan-views).
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
  allLayers?: boolean;
  sparsity?: string;
  convention: string;
  json?: boolean;
  walk?: boolean;
  opt?: string[];
  seed?: string;
}

/** Models check option values when they are built (a RangeError names the option): that is bad input, exit 2. */
function planWithUsageErrors(plan: () => ModelPlan): ModelPlan {
  try {
    return plan();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
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

/** FLOPs and parameters are counts: whole numbers (the paper convention's density-scaled MACs are rounded for display). */
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (r: number): string => (Number.isFinite(r) ? r.toFixed(4) : '-');

function table(rows: string[][], rightAligned: (column: number) => boolean): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** A row that neither holds parameters nor costs FLOPs in the table's convention (an activation, an uncounted add or pool). */
const isEmptyRow = (r: ModelPlan['rows'][number]): boolean => r.params === 0 && r.denseFlops === 0 && r.sparseFlops === 0;

/** The mask sparsities of a plan's masked layers, as one line ('' when nothing is masked). */
export function maskSparsityLine(plan: ModelPlan, opts: ModelOptions): string {
  const sparsities = [...new Set(plan.rows.filter((r) => r.masked).map((r) => (1 - r.density).toFixed(4)))];
  if (sparsities.length === 0) return '';
  const which = sparsities.length === 1 ? `mask sparsity ${sparsities[0]}` : `mask sparsity ${sparsities[0]} to ${sparsities.at(-1)} (per layer)`;
  // Sparse Wide: s sets the width, and the masks are solved so the widened model costs the dense model's FLOPs.
  const why = opts.family === 'sparse-wide' ? `: s = ${opts.sparsity} sets the widths, the sparsity is solved so this model costs the dense model's FLOPs (docs/flops.md#sparse-wide-budget)` : '';
  return `${which} on ${plan.rows.filter((r) => r.masked).length} masked layers${why}`;
}

/**
 * The plan as a person reads it. "dense model" always means the dense baseline (family dense, not widened);
 * a layer's FLOPs are given as this model runs it (its mask applied) and with its mask full ("unmasked").
 * Rows with neither parameters nor FLOPs are left out unless `allLayers`.
 */
export function formatPlan(modelName: string, opts: ModelOptions, plan: ModelPlan, allLayers = false): string {
  const conv = plan.totals.convention;
  const unit = conv === 'paper' ? 'MACs' : 'FLOPs';
  const head = ['layer', 'role', 'shape', 'params', 'mask sparsity', unit, `${unit} unmasked`];
  const shown = allLayers ? plan.rows : plan.rows.filter((r) => !isEmptyRow(r));
  const body = shown.map((r) => [
    r.name,
    // core's role of an unmasked transformed weight; here "dense" means the dense model only
    r.role === 'dense-weight' ? 'unmasked-weight' : r.role,
    r.shape.length ? r.shape.join('×') : '-',
    r.params ? fmt(r.params) : '-',
    r.masked ? (1 - r.density).toFixed(4) : '-',
    fmt(r.sparseFlops),
    fmt(r.denseFlops),
  ]);
  const hidden = plan.rows.length - shown.length;
  const masks = maskSparsityLine(plan, opts);
  const lines = [
    `${modelName}, family ${opts.family}${opts.family === 'dense' ? '' : `, s = ${opts.sparsity}`}: forward ${unit} per sample (${conv === 'paper' ? 'paper convention, multiply-accumulates' : 'official convention, the Cerebras counter'})`,
    ...(masks ? [masks] : []),
    '',
    table([head, ...body], (c) => c >= 3),
    ...(hidden > 0 ? [`(${hidden} rows without parameters or ${unit} not shown: activations, uncounted adds and pooling; --all-layers lists them)`] : []),
    '',
    `parameters ${fmt(plan.totals.params)} (masked ${fmt(plan.totals.maskedParams)}, non-zero ≈ ${fmt(plan.totals.nonZeroParams)})`,
  ];
  for (const c of ['official', 'paper'] as const) {
    const t = plan.byConvention[c];
    const u = c === 'paper' ? 'MACs' : 'FLOPs';
    lines.push(
      `${`${u} (${c})`.padEnd(16)} this model ${fmt(t.wholeNetwork.sparseFlops)}, dense model ${fmt(t.wholeNetwork.denseFlops)}: ratio ${ratio(t.wholeNetwork.flopRatio)} (this model unmasked: ${fmt(t.wholeNetwork.instantiatedDenseFlops)})`,
      `${''.padEnd(16)} masked layers only: this model ${fmt(t.maskedLayers.sparseFlops)}, the dense model's same layers ${fmt(t.maskedLayers.denseFlops)}: ratio ${ratio(t.maskedLayers.flopRatio)}`,
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
    .option('--convention <c>', 'FLOP convention of the table: official (the Cerebras counter, whole FLOPs) | paper (multiply-accumulates)', 'official')
    .option('--opt <key=value...>', 'model-specific option, e.g. dopedMaskLowRank=true, numClasses=10')
    .option('--seed <n>', 'seed (only matters with --walk)')
    .option('--walk', 'build the tf.js model and read it (realised mask densities; slow for big models)')
    .option('--all-layers', 'also list the rows without parameters or FLOPs (activations, uncounted adds and pooling)')
    .option('--json', 'print one JSON object (every row)')
    .action(async (modelName: string, flags: PlanFlags) => {
      const { opts, convention } = parseFlags(modelName, flags);
      const plan = planWithUsageErrors(() => planFor(modelName, opts, convention, flags.walk === true));
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
        process.stdout.write(`${formatPlan(modelName, opts, plan, flags.allLayers === true)}\n`);
      }
    });
}
