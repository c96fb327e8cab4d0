/**
 * Small Sparse-IFT networks for Fashion-MNIST, built from core's layers like every zoo: an MLP
 * 784 → H → H → 10 and a CNN (3×3 stem, two stride-2 3×3 convs, global average pool, linear head).
 * Each transformed layer is core's `sparseIftDense` / `sparseIftConv2D`, so shapes, masks and roles
 * come from core's one description of the family (docs/sparse-ift.md#one-description); FLOPs are
 * read off the built model by core's walker.
 *
 * Which layers are transformed (docs/recipes.md#fashion-mnist): the two hidden layers of the MLP
 * (including the 784-input one, which holds most of an MLP's FLOPs; leaving it dense would make every
 * family nearly the dense model) and the two stride-2 convs of the CNN. The head and the CNN's stem
 * stay dense. Sparse Wide widens every hidden width by k_sw, then solves the mask sparsity that
 * brings the widened model back to the dense model's FLOPs (docs/flops.md#sparse-wide-budget).
 *
 * Family forms: the MLP has no norms, so its families use ReLUs alone: a ReLU per Sparse Parallel
 * branch (Σ_j ReLU(θ_jᵀz + b_j)) and between Sparse Factorized's U and V (V·ReLU(U·z)); a norm
 * there would cost more FLOPs than the layer it sits in at s = 0.9 (LayerNorm over d = 483 is 19 %
 * of this MLP). The CNN uses the official conv forms (BN per branch; BN + ReLU between U and V).
 * Sparse Doped: θ_s·z + V·(U·z), U and V dense.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BuildSeeds,
  countedLayerName,
  countFlops,
  kaimingNormal,
  modelFlopOps,
  seededInitializer,
  sparseIftConv2D,
  sparseIftDense,
  sparseWideMaskSparsity,
  sparseWideWidth,
  tensorSeed,
  torchLinearInit,
  type Family,
  type FamilyOptions,
} from '@sparse-ift/core';
import { layersTrainable, type TrainableModel } from '@sparse-ift/train';

export type Architecture = 'mlp' | 'cnn';

export interface ModelSpec {
  architecture: Architecture;
  /** Side of the (square, 1-channel) input images: 28, or 14 after 2×2 pooling. */
  inputSize: number;
  /** MLP hidden width H, or the CNN stem width C (convs: C → 2C → 2C). */
  width: number;
  family: Family;
  /** Nominal Sparse-IFT sparsity s (0 for dense). */
  sparsity: number;
  seed: number;
}

export interface FashionNet {
  spec: ModelSpec;
  model: tfl.LayersModel;
  /** The model as the trainer sees it (weights, masks, BN statistics). */
  trainable: TrainableModel;
  /** Sparsity the masks are drawn at (differs from s only for Sparse Wide). */
  maskSparsity: number;
  describe(): string;
}

const CLASSES = 10;

/** Kaiming-normal fan-in (ReLU gain), std √(2/fan_in), for every hidden weight. */
const HIDDEN_INIT = kaimingNormal({ mode: 'fanIn' });

function familyForm(architecture: Architecture): Partial<FamilyOptions> {
  return architecture === 'mlp' ? { parallelSigma: 'relu', factorizedMiddle: 'relu' } : {};
}

type Sym = tfl.SymbolicTensor;
const apply = (layer: { apply(x: Sym): unknown }, x: Sym): Sym => layer.apply(x) as Sym;
/** Hidden ReLUs count as modules in the FLOP table. */
const relu = (name: string) => tfl.layers.activation({ name: countedLayerName(name), activation: 'relu' });

function build(spec: ModelSpec, maskSparsity: number): tfl.LayersModel {
  const { architecture, family, inputSize: side } = spec;
  const sparsity = family === 'dense' ? 0 : spec.sparsity;
  const width = family === 'sparse-wide' ? sparseWideWidth(spec.width, sparsity) : spec.width;
  const seeds = new BuildSeeds(spec.seed); // each layer's seeds, in build order (docs/seeding.md)
  const transformed = { family, sparsity, maskSparsity, ...familyForm(architecture), kernelInitializer: HIDDEN_INIT };
  let x: Sym;
  let input: Sym;
  if (architecture === 'mlp') {
    input = tfl.input({ shape: [side * side], name: 'image' });
    x = input;
    for (const name of ['fc1', 'fc2']) {
      x = apply(relu(`${name}_relu`), sparseIftDense(x, { name, units: width, useBias: true, ...transformed, ...seeds.next() }));
    }
  } else {
    input = tfl.input({ shape: [side, side, 1], name: 'image' });
    const stemInit = seededInitializer(HIDDEN_INIT, tensorSeed(seeds.next().weightSeed, 0));
    x = apply(relu('stem_relu'), apply(tfl.layers.conv2d({ name: 'stem', filters: width, kernelSize: 3, padding: 'same', kernelInitializer: stemInit }), input));
    for (const name of ['conv1', 'conv2']) {
      const conv = sparseIftConv2D(x, { name, filters: 2 * width, kernelSize: 3, strides: 2, padding: 'same', useBias: true, ...transformed, ...seeds.next() });
      x = apply(relu(`${name}_relu`), conv);
    }
    x = apply(tfl.layers.globalAveragePooling2d({ name: countedLayerName('pool') }), x);
  }
  const headIn = x.shape[x.shape.length - 1]!;
  // PyTorch's default Linear init for the head.
  const logits = apply(tfl.layers.dense({ name: 'head', units: CLASSES, ...torchLinearInit(headIn, seeds.next().weightSeed) }), x);
  return tfl.model({ inputs: input, outputs: logits, name: `fashion-${architecture}-${family}` });
}

/** Official-counter FLOPs per sample of a built model, masks at their target density. */
const targetFlops = (model: tfl.LayersModel) => modelFlopOps(model, { density: 'target' });

/** The dense baseline's forward FLOPs per sample (official counter): the iso-FLOP budget. */
export function denseBudget(architecture: Architecture, width: number, inputSize: number): number {
  const dense = build({ architecture, inputSize, width, family: 'dense', sparsity: 0, seed: 0 }, 0);
  const flops = countFlops(targetFlops(dense), 'official').dense;
  dense.dispose();
  return flops;
}

/** The network of one grid row, as a LayersModel and as the trainer's TrainableModel. */
export function buildNet(spec: ModelSpec): FashionNet {
  let maskSparsity = spec.family === 'dense' ? 0 : spec.sparsity;
  if (spec.family === 'sparse-wide') {
    // Widen, then solve for the mask sparsity that meets the dense FLOP budget.
    const probe = build(spec, maskSparsity);
    maskSparsity = sparseWideMaskSparsity(targetFlops(probe), denseBudget(spec.architecture, spec.width, spec.inputSize));
    probe.dispose();
  }
  const model = build(spec, maskSparsity);
  const trainable = layersTrainable(model, (x, training) => model.apply(x, { training }) as tf.Tensor2D);
  return {
    spec,
    model,
    trainable,
    maskSparsity,
    describe: () => `${spec.architecture} ${spec.family} s=${spec.sparsity} (mask sparsity ${maskSparsity.toFixed(4)}, ${model.countParams()} weights incl. masks)`,
  };
}
