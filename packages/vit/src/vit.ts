/**
 * Vision Transformer (ViT, timm's vit_*_patch16_224 layout): patch embedding (a Dense on flattened
 * patches, equal to the p×p stride-p conv), class token, learned positions, pre-LN blocks
 * (LayerNorm eps 1e-6, GELU MLP 4×), final LayerNorm and a linear head on the class token.
 *
 * Sparse-IFT (docs/sparse-ift.md#which-layers, ViT): the six linears of every block (q, k, v,
 * attention output, fc1, fc2) are transformed and masked; patch embedding, class token, positions,
 * LayerNorms and the head stay dense. The block is @sparse-ift/transformer's, non-causal.
 */
import { initializers, input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { BuildSeeds, Dropout, LayerNorm, tensorSeed, type ModelOpList, type PlanOp } from '@sparse-ift/core';
import {
  PositionEmbedding,
  builtModelName,
  checkFamilyAndSparsity,
  transformerBlock,
  transformerBlockOps,
  transformerBlockSpec,
  truncatedNormal,
  type TransformerBlockSpec,
  type TransformerBuildOptions,
} from '@sparse-ift/transformer';
import { patchCount, type VitConfig } from './config.js';
import { ClassToken, Patchify, SelectClassToken } from './patch.js';

export interface VitBuildOptions extends TransformerBuildOptions {
  /** Overrides the config's class count (e.g. 100 for CIFAR-100). */
  numClasses?: number;
  /**
   * Seed of the masks and the weights (docs/seeding.md): the layers in build order are patch_embed 0,
   * cls_token 1, pos_embed 2, block b at 3 + b, head 3 + layers; a block splits its seeds per linear
   * and per tensor. Unseeded if absent.
   */
  seed?: number;
}

function check(c: VitConfig, o: VitBuildOptions): number {
  checkFamilyAndSparsity(o.family, o.sparsity);
  const classes = o.numClasses ?? c.numClasses;
  if (!Number.isInteger(classes) || classes <= 0) throw new RangeError(`numClasses must be a positive integer, got ${classes}`);
  return classes;
}

function blockSpec(c: VitConfig, o: VitBuildOptions): TransformerBlockSpec {
  // timm initialises every Linear with trunc_normal(0.02): no separate output-layer std.
  return transformerBlockSpec(c, o, { causal: false, outputInitStd: c.initStd });
}

const seedArg = (seed: number | undefined) => (seed === undefined ? {} : { seed });

/** images [B, H, W, C] → logits [B, classes]. */
export function buildVit(c: VitConfig, o: VitBuildOptions): LayersModel {
  const classes = check(c, o);
  const spec = blockSpec(c, o);
  const d = spec.dModel;
  const n = patchCount(c);
  const seeds = new BuildSeeds(o.seed);
  const initSeed = () => tensorSeed(seeds.next().weightSeed, 0);
  const images = input({ shape: [c.imageSize, c.imageSize, c.channels], name: 'images' });
  const patches = new Patchify({ name: 'patchify', patchSize: c.patchSize }).apply(images) as SymbolicTensor;
  // PyTorch's Conv2d default init (kaiming_uniform a=√5): U(±1/√fan_in) = varianceScaling(1/3, fanIn, uniform).
  let x = layers
    .dense({
      name: 'patch_embed',
      units: d,
      kernelInitializer: initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', ...seedArg(initSeed()) }),
    })
    .apply(patches) as SymbolicTensor;
  x = new ClassToken({ name: 'cls_token', ...seedArg(initSeed()) }).apply(x) as SymbolicTensor;
  x = new PositionEmbedding({ name: 'pos_embed', length: n + 1, dModel: d, initStd: c.initStd, ...seedArg(initSeed()) }).apply(x) as SymbolicTensor;
  if (c.dropout > 0) x = new Dropout({ name: 'pos_drop', rate: c.dropout }).apply(x) as SymbolicTensor;
  for (let i = 0; i < c.layers; i++) {
    x = transformerBlock(x, { ...spec, ...seeds.next() }, `blocks${i}`);
  }
  x = new LayerNorm({ name: 'norm', epsilon: c.layerNormEpsilon }).apply(x) as SymbolicTensor;
  const cls = new SelectClassToken({ name: 'cls_select' }).apply(x) as SymbolicTensor;
  const logits = layers
    .dense({ name: 'head', units: classes, kernelInitializer: truncatedNormal(c.initStd, initSeed()) })
    .apply(cls) as SymbolicTensor;
  return model({ inputs: images, outputs: logits, name: builtModelName(c.name, o.family, o.sparsity) });
}

/** The forward pass as FLOP ops per image, plus class token and position table as parameters. */
export function vitOpList(c: VitConfig, o: VitBuildOptions): ModelOpList {
  const classes = check(c, o);
  const spec = blockSpec(c, o);
  const d = spec.dModel;
  const n = patchCount(c);
  const tokens = n + 1;
  const ops: PlanOp[] = [
    {
      kind: 'linear',
      name: 'patch_embed',
      inFeatures: c.patchSize * c.patchSize * c.channels,
      outFeatures: d,
      rows: n,
      bias: true,
      masked: false,
      density: 1,
      maskable: false,
      role: 'patch-embed',
    },
  ];
  for (let i = 0; i < c.layers; i++) ops.push(...transformerBlockOps(spec, `blocks${i}`, tokens));
  ops.push({ kind: 'layernorm', name: 'norm', rows: tokens, size: d, affine: true, role: 'ln' });
  ops.push({ kind: 'linear', name: 'head', inFeatures: d, outFeatures: classes, rows: 1, bias: true, masked: false, density: 1, maskable: false, role: 'head' });
  return {
    ops,
    extraParams: [
      { name: 'cls_token/cls_token', role: 'cls-token', shape: [1, 1, d] },
      { name: 'pos_embed/embeddings', role: 'position-embedding', shape: [tokens, d] },
    ],
  };
}
