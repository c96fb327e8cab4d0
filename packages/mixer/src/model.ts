/**
 * The tf.js MLP-Mixer (timm's MlpMixer layout): a p×p stride-p conv patch embedding, `blocks` of
 * token mixing and channel mixing (pre-LayerNorm MLPs with GELU, residual adds), a final LayerNorm,
 * the mean over tokens and a linear head.
 *
 * Sparse-IFT: the four MLP linears of every block are core's `sparseIftDense` (transformed and
 * masked); the patch embedding, LayerNorms, biases and the head stay dense
 * (docs/sparse-ift.md#which-layers). Init as timm's: Xavier-uniform linears, zero biases, LeCun-normal
 * patch conv, zero head.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { BuildSeeds, Gelu, LayerNorm, partSeeds, seededInitializer, sparseIftDense, tensorSeed, type LayerSeeds } from '@sparse-ift/core';
import { resolveMixer, type MixerArch, type MixerOptions, type ResolvedMixer } from './config.js';

type Sym = tfl.SymbolicTensor;
const apply = (layer: { apply(x: Sym | Sym[]): unknown }, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;
const LN_EPSILON = 1e-6; // timm's Mixer

/** fc1 → GELU → fc2 over the last axis; the j-th linear of the block is part `first + j` of its seeds. */
function mlp(x: Sym, r: ResolvedMixer, name: string, width: number, seeds: LayerSeeds, first: number): Sym {
  const out = x.shape[x.shape.length - 1]!;
  const linear = (h: Sym, suffix: string, units: number, part: number) =>
    sparseIftDense(h, { name: `${name}_${suffix}`, units, ...r.linears, useBias: true, kernelInitializer: 'glorotUniform', layerNormEpsilon: LN_EPSILON, ...partSeeds(seeds, part) });
  const h = apply(new Gelu({ name: `${name}_gelu` }), linear(x, 'fc1', width, first));
  return linear(h, 'fc2', out, first + 1);
}

function mixerBlock(x: Sym, r: ResolvedMixer, p: string, seeds: LayerSeeds): Sym {
  // Token mixing: transpose to [B, C, N] so the MLP's last axis runs over the patches.
  let h = apply(new LayerNorm({ name: `${p}_norm1`, epsilon: LN_EPSILON }), x);
  h = apply(tfl.layers.permute({ name: `${p}_token_t`, dims: [2, 1] }), h);
  h = mlp(h, r, `${p}_token`, r.tokenMlp, seeds, 0);
  h = apply(tfl.layers.permute({ name: `${p}_token_t_back`, dims: [2, 1] }), h);
  x = apply(tfl.layers.add({ name: `${p}_token_residual` }), [x, h]);
  h = apply(new LayerNorm({ name: `${p}_norm2`, epsilon: LN_EPSILON }), x);
  h = mlp(h, r, `${p}_channel`, r.channelMlp, seeds, 2);
  return apply(tfl.layers.add({ name: `${p}_channel_residual` }), [x, h]);
}

/** images [B, H, W, C] → logits [B, classes], for a resolved configuration. */
export function buildResolvedMixer(r: ResolvedMixer): tfl.LayersModel {
  const { arch } = r;
  const seeds = new BuildSeeds(r.seed); // each layer's seeds, in build order (docs/seeding.md)
  const images = tfl.input({ shape: [arch.imageSize, arch.imageSize, arch.channels], name: 'images' });
  const stem = tfl.layers.conv2d({
    name: 'stem',
    filters: r.hidden,
    kernelSize: arch.patchSize,
    strides: arch.patchSize,
    padding: 'valid',
    kernelInitializer: seededInitializer('leCunNormal', tensorSeed(seeds.next().weightSeed, 0)),
  });
  let x = apply(tfl.layers.reshape({ name: 'tokens', targetShape: [r.tokens, r.hidden] }), apply(stem, images));
  for (let b = 0; b < arch.blocks; b++) x = mixerBlock(x, r, `b${b}`, seeds.next());
  x = apply(new LayerNorm({ name: 'norm', epsilon: LN_EPSILON }), x);
  x = apply(tfl.layers.globalAveragePooling1d({ name: 'pool' }), x);
  const logits = apply(tfl.layers.dense({ name: 'head', units: r.numClasses, kernelInitializer: 'zeros' }), x);
  return tfl.model({ inputs: images, outputs: logits, name: `${arch.name}-${r.linears.family}` });
}

/** `buildMixer(MIXER_MINI_28, {family: 'sparse-parallel', sparsity: 0.75, seed: 0})`. */
export function buildMixer(arch: MixerArch, o: MixerOptions): tfl.LayersModel {
  return buildResolvedMixer(resolveMixer(arch, o));
}
