/**
 * Registers the GPT configs with core's model registry: `createModel('gpt3-small', {family, sparsity})`.
 * Every name supports all five families; `flopOps` describes the model without allocating weights.
 */
import { FAMILIES, registerModel, type ModelDefinition, type ModelOptions } from '@sparse-ift/core';
import { GPT3_SMALL, GPT_MINI, GPT_NANO, type GptConfig } from './config.js';
import { buildGpt, gptOpList, type GptBuildOptions } from './gpt.js';
import { TRANSFORMER_OPTION_HELP, parseTransformerBuildOptions } from '@sparse-ift/transformer';

function buildOptions(c: GptConfig, opts: ModelOptions): GptBuildOptions {
  const sequenceLength = opts['sequenceLength'];
  if (sequenceLength !== undefined && typeof sequenceLength !== 'number') {
    throw new Error(`sequenceLength must be a number of tokens (1..${c.contextLength}), got ${String(sequenceLength)}`);
  }
  return { ...parseTransformerBuildOptions(opts), ...(sequenceLength === undefined ? {} : { sequenceLength }) };
}

const DESCRIPTIONS: Record<string, string> = {
  'gpt3-small': 'GPT-3 Small (125 M): 12 layers × d 768, 12 heads, context 1024, GPT-2 vocabulary, tied LM head (docs/recipes.md#gpt-3-small-wikitext-103)',
  'gpt-mini': 'small CPU GPT: 4 layers × d 256, 4 heads, context 256, GPT-2 vocabulary',
  'gpt-nano': 'test GPT: 2 layers × d 32, 2 heads, context 16, 97-token vocabulary, no dropout',
};

export function gptDefinition(c: GptConfig): ModelDefinition {
  return {
    name: c.name,
    description: DESCRIPTIONS[c.name] ?? `GPT decoder ${c.layers} × d ${c.dModel}`,
    task: 'language-modeling',
    inputShape: [c.contextLength],
    vocabSize: c.vocabSize,
    families: FAMILIES,
    options: { ...TRANSFORMER_OPTION_HELP, sequenceLength: `tokens per sample (default ${c.contextLength})` },
    create: (opts) => buildGpt(c, buildOptions(c, opts)),
    flopOps: (opts) => gptOpList(c, buildOptions(c, opts)),
    ...(c.name === 'gpt3-small' ? { paper: { params: 124_439_808, source: 'GPT-2 small with context 1024 (docs/recipes.md#gpt-3-small-wikitext-103)' } } : {}),
    package: '@sparse-ift/gpt',
  };
}

export const GPT_DEFINITIONS: readonly ModelDefinition[] = [GPT3_SMALL, GPT_MINI, GPT_NANO].map(gptDefinition);

/** Idempotent: re-registering the same definition objects is allowed by the registry. */
export function registerGptModels(): void {
  for (const def of GPT_DEFINITIONS) registerModel(def);
}
