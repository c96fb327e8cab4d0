/** Registers the ViT configs with core's model registry, every one with all five families. */
import { FAMILIES, registerModel, type ModelDefinition, type ModelOptions } from '@sparse-ift/core';
import { TRANSFORMER_OPTION_HELP, parseTransformerBuildOptions } from '@sparse-ift/transformer';
import { VIT_CONFIGS, type VitConfig } from './config.js';
import { buildVit, vitOpList, type VitBuildOptions } from './vit.js';

function buildOptions(opts: ModelOptions): VitBuildOptions {
  const numClasses = opts['numClasses'];
  if (numClasses !== undefined && typeof numClasses !== 'number') throw new Error(`numClasses must be a number, got ${String(numClasses)}`);
  return { ...parseTransformerBuildOptions(opts), ...(numClasses === undefined ? {} : { numClasses }) };
}

export function vitDefinition(c: VitConfig): ModelDefinition {
  return {
    name: c.name,
    description: `ViT ${c.layers} × d ${c.dModel}, ${c.heads} heads, patch ${c.patchSize} at ${c.imageSize}²×${c.channels}, ${c.numClasses} classes`,
    task: 'image-classification',
    inputShape: [c.imageSize, c.imageSize, c.channels],
    numClasses: c.numClasses,
    families: FAMILIES,
    options: { ...TRANSFORMER_OPTION_HELP, numClasses: `classes of the head (default ${c.numClasses})` },
    create: (opts) => buildVit(c, buildOptions(opts)),
    flopOps: (opts) => vitOpList(c, buildOptions(opts)),
    ...(c.name === 'vit-s16' ? { paper: { params: 22_050_664, source: "timm vit_small_patch16_224, 1000 classes" } } : {}),
    package: '@sparse-ift/vit',
  };
}

export const VIT_DEFINITIONS: readonly ModelDefinition[] = VIT_CONFIGS.map(vitDefinition);

export function registerVitModels(): void {
  for (const def of VIT_DEFINITIONS) registerModel(def);
}
