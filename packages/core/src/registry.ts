/**
 * The model registry: one name → one architecture, buildable with any Sparse-IFT family it supports.
 *
 * How a zoo package uses it (see docs/adding-a-model-family.md and packages/resnet):
 *
 *   import { registerModel } from '@sparse-ift/core';
 *   registerModel({
 *     name: 'resnet18-cifar', description: '...', task: 'image-classification',
 *     inputShape: [32, 32, 3], numClasses: 100,
 *     families: ['dense', 'sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped'],
 *     create: (opts) => buildResNet({...config, ...opts}),        // a tf.LayersModel
 *     flopOps: (opts) => resnetOps({...config, ...opts}),          // PlanOp[], no weights allocated
 *   });
 *
 * The package's `src/index.ts` calls its `register…()` on import (a side effect, so its package.json
 * keeps `"sideEffects": true`), and users write `import '@sparse-ift/resnet'` then
 * `createModel('resnet18-cifar', {family: 'sparse-wide', sparsity: 0.9})`.
 *
 * Registering a name twice throws unless the definition object is the same one (re-import is fine).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { FAMILIES, assertSparsity, isFamily, type Family } from './isoflop.js';
import type { SparseMethod } from './updaters.js';
import {
  modelExtraParams,
  modelFlopOps,
  planFromOps,
  type ModelOpList, type ModelPlan, type PlanOp, type ModelPlanOptions } from './model-flops.js';

export type ModelTask = 'image-classification' | 'language-modeling';

/** Options every model accepts; a definition may accept more (listed in `options`). */
export interface ModelOptions {
  family: Family;
  /** Target sparsity s in [0, 1); must be 0 for 'dense'. */
  sparsity: number;
  /** Sparse-training method the model is meant for (informational for builders; default 'static'). */
  method?: SparseMethod;
  /** Seed of the weight init and the masks; without it every build differs. */
  seed?: number;
  /** Model-specific overrides (e.g. `numClasses`, `factorizedMiddle`, `dopedMaskLowRank`). */
  [option: string]: unknown;
}

/** Reference numbers a model's tests check against (docs/reference-values.md), all optional. */
export interface PaperReference {
  /** Dense parameter count. */
  params?: number;
  /** Dense forward FLOPs per sample in the official convention (the Sparse Wide budget). */
  officialFlops?: number;
  /** Where the numbers come from (e.g. 'docs/reference-values.md#imagenet'). */
  source?: string;
}

export interface ModelDefinition {
  name: string;
  description: string;
  task: ModelTask;
  /** Per-sample input shape: [H, W, C] for images, [T] token ids for language models. */
  inputShape: number[];
  numClasses?: number;
  vocabSize?: number;
  /** Families `create` supports. */
  families: readonly Family[];
  /** Extra options `create` accepts, name → one-line help (shown by `sift plan --help`/docs). */
  options?: Record<string, string>;
  /** Builds the tf.js model (weights allocated). Options are already validated. */
  create(opts: ModelOptions): LayersModel;
  /**
   * The forward pass as ops at the target (expected) densities, without allocating weights. When
   * absent, planning builds the model and walks it (slow for big models).
   */
  flopOps?(opts: ModelOptions): ModelOpList | PlanOp[];
  paper?: PaperReference;
  /** The npm package that registered it (for error messages). */
  package?: string;
}

const registry = new Map<string, ModelDefinition>();

export function registerModel(def: ModelDefinition): void {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(def.name)) {
    throw new Error(`model name '${def.name}' must be lower-case letters, digits, '-' or '.'`);
  }
  for (const f of def.families) {
    if (!isFamily(f)) throw new Error(`model '${def.name}' lists unknown family '${f}'; valid: ${FAMILIES.join(', ')}`);
  }
  const existing = registry.get(def.name);
  if (existing !== undefined && existing !== def) {
    throw new Error(
      `model '${def.name}' is already registered${existing.package ? ` by ${existing.package}` : ''}; pick another name`,
    );
  }
  registry.set(def.name, def);
}

/** Removes a model (tests, or a package replacing its own definition). Returns whether it existed. */
export function unregisterModel(name: string): boolean {
  return registry.delete(name);
}

/** Registered definitions, sorted by name. */
export function listModels(): ModelDefinition[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function getModelDefinition(name: string): ModelDefinition {
  const def = registry.get(name);
  if (def === undefined) {
    const known = [...registry.keys()].sort();
    throw new Error(
      `unknown model '${name}'; registered models: ${known.length ? known.join(', ') : '(none — import a zoo package such as @sparse-ift/resnet first)'}`,
    );
  }
  return def;
}

/** Options every definition accepts; the rest must be listed in its `options`. */
export const COMMON_MODEL_OPTIONS: readonly string[] = ['family', 'sparsity', 'method', 'seed'];

/** Edit distance of two short strings (option names), for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * Checks family, sparsity and option names against a definition; returns the options with defaults
 * filled in. An option the definition does not list is refused (a typo such as `sequenceLenght` would
 * otherwise build the default model silently), with the closest valid name when there is one.
 */
export function resolveModelOptions(def: ModelDefinition, opts: ModelOptions): ModelOptions {
  const known = [...COMMON_MODEL_OPTIONS, ...Object.keys(def.options ?? {})];
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const closest = known.map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
    const hint = closest && closest[1] <= Math.max(2, Math.floor(key.length / 4)) ? `did you mean '${closest[0]}'? ` : '';
    throw new Error(`unknown option '${key}' for model '${def.name}'; ${hint}valid options: ${known.join(', ')}`);
  }
  if (!isFamily(opts.family)) {
    throw new Error(`unknown family '${String(opts.family)}'; valid families: ${FAMILIES.join(', ')}`);
  }
  if (!def.families.includes(opts.family)) {
    throw new Error(`model '${def.name}' does not support family '${opts.family}'; it supports: ${def.families.join(', ')}`);
  }
  assertSparsity(opts.sparsity);
  if (opts.family === 'dense' && opts.sparsity !== 0) {
    throw new RangeError(`family 'dense' needs sparsity 0, got ${opts.sparsity}; pick a Sparse-IFT family for s > 0`);
  }
  if (opts.family !== 'dense' && opts.sparsity === 0) {
    throw new RangeError(`family '${opts.family}' needs a sparsity in (0, 1), got 0; use family 'dense' for a dense model`);
  }
  return { method: 'static', ...opts };
}

/** Builds a registered model: `createModel('resnet18-cifar', {family: 'sparse-parallel', sparsity: 0.75})`. */
export function createModel(name: string, opts: ModelOptions): LayersModel {
  const def = getModelDefinition(name);
  return def.create(resolveModelOptions(def, opts));
}

/** The op list of a registered model (from `flopOps` when defined, else by building and walking it). */
export function modelOpList(name: string, opts: ModelOptions): ModelOpList {
  const def = getModelDefinition(name);
  const resolved = resolveModelOptions(def, opts);
  if (def.flopOps) {
    const list = def.flopOps(resolved);
    return Array.isArray(list) ? { ops: list } : list;
  }
  const model = def.create(resolved);
  try {
    return { ops: modelFlopOps(model, { density: 'target' }), extraParams: modelExtraParams(model) };
  } finally {
    model.dispose();
  }
}

/**
 * The plan of a registered model against its dense baseline (the same model, family 'dense'):
 * per-layer rows, totals, both views and conventions. Uses `flopOps` (no weights) when defined.
 */
export function planRegisteredModel(name: string, opts: ModelOptions, options: ModelPlanOptions = {}): ModelPlan {
  const baselineOpts: ModelOptions = { ...opts, family: 'dense', sparsity: 0 };
  return planFromOps(modelOpList(name, opts), modelOpList(name, baselineOpts), options);
}
