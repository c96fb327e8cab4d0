/**
 * The ResNet forward pass as an op list (per sample, at the expected mask density 1 − s), without
 * allocating a weight: what `sift plan` prints and what the Sparse Wide budget solve measures.
 * Names are the tf.js layer names model.ts builds, so tests can compare this list with the FLOP
 * walker's reading of a built model. Shapes come from core's `planLayer` (never re-derived).
 *
 * Official FLOP-counter rules (docs/flops.md#official-counter): ReLUs are functional (not counted)
 * except the Sparse Factorized middle `nn.ReLU`; residual and branch sums are not counted; the CIFAR
 * avg-pool is functional (not counted); ImageNet's MaxPool2d and AdaptiveAvgPool2d are modules (counted).
 */
import { countedLayerName, familyBlock, familyBlockOps, type PlanOp } from '@sparse-ift/core';
import { blockFamilyOptions, halve, type ResolvedResNet } from './config.js';

interface ConvArgs {
  name: string;
  k: number;
  cin: number;
  cout: number;
  hw: number;
  masked: boolean;
  maskable: boolean;
  density: number;
  role: string;
}

/** A conv outside the transformed blocks: stem and shortcut. */
function conv(a: ConvArgs): PlanOp {
  return {
    kind: 'conv2d',
    name: a.name,
    kernelSize: [a.k, a.k],
    inChannels: a.cin,
    outChannels: a.cout,
    outHeight: a.hw,
    outWidth: a.hw,
    bias: false,
    masked: a.masked,
    density: a.masked ? a.density : 1,
    maskable: a.maskable,
    role: a.role,
  };
}

const bn = (name: string, channels: number, hw: number): PlanOp => ({ kind: 'batchnorm', name, channels, spatial: hw * hw, affine: true, role: 'bn' });
const relu = (name: string, numel: number, counted = false): PlanOp => ({ kind: 'relu', name, numel, counted, role: 'activation' });
const add = (name: string, numel: number): PlanOp => ({ kind: 'add', name, numel, counted: false, role: 'add' });

/** Ops of one transformed 3×3 conv of a BasicBlock: core's description of the family (as model.ts builds it). */
function blockConvOps(r: ResolvedResNet, name: string, cin: number, cout: number, hw: number): PlanOp[] {
  const block = familyBlock({ kind: 'conv', kernelSize: [3, 3], inChannels: cin, outChannels: cout }, { ...blockFamilyOptions(r), bias: false });
  return familyBlockOps(block, name, { outHeight: hw, outWidth: hw });
}

/** The whole network, stem to classifier, per sample. */
export function resnetOps(r: ResolvedResNet): PlanOp[] {
  const ops: PlanOp[] = [];
  const [h0, , c0] = r.arch.inputShape;
  const w = r.width;
  const density = 1 - r.maskSparsity;
  const sparse = r.family !== 'dense';
  let hw = h0;
  // Stem: dense in every family (docs/sparse-ift.md#which-layers), widened to W for Sparse Wide.
  if (r.arch.stem === 'cifar') {
    ops.push(conv({ name: 'stem_conv', k: 3, cin: c0, cout: w, hw, masked: false, maskable: false, density: 1, role: 'stem' }));
  } else {
    hw = halve(hw);
    ops.push(conv({ name: 'stem_conv', k: 7, cin: c0, cout: w, hw, masked: false, maskable: false, density: 1, role: 'stem' }));
  }
  ops.push(bn('stem_bn', w, hw), relu('stem_bn_relu', w * hw * hw)); // relu fused into stem_bn
  if (r.arch.stem === 'imagenet') {
    hw = halve(hw);
    ops.push({ kind: 'maxpool2d', name: 'stem_pool', kernel: 3, outNumel: w * hw * hw, role: 'pool' });
  }
  let cin = w;
  r.stages.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      const p = `s${s}b${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const out = stride === 2 ? halve(hw) : hw;
      const cout = stage.width;
      const numel = cout * out * out;
      // Outside Sparse Parallel (whose BNs sit in its branches) the BNs carry the ReLU and the residual
      // add fused (core's BatchNorm layer): the ops keep the fused layer's names.
      const fused = r.family !== 'sparse-parallel';
      ops.push(...blockConvOps(r, `${p}_conv1`, cin, cout, out));
      if (fused) ops.push(bn(`${p}_bn1`, cout, out));
      ops.push(relu(fused ? `${p}_bn1_relu` : `${p}_relu1`, numel));
      ops.push(...blockConvOps(r, `${p}_conv2`, cout, cout, out));
      if (fused) ops.push(bn(`${p}_bn2`, cout, out));
      if (stride !== 1 || cin !== cout) {
        // The 1×1 shortcut is never transformed (one copy) but is masked at s in every sparse family (docs/sparse-ift.md#which-layers).
        ops.push(conv({ name: `${p}_shortcut`, k: 1, cin, cout, hw: out, masked: sparse, maskable: true, density, role: r.family === 'sparse-wide' ? 'wide-weight' : 'shortcut' }));
        ops.push(bn(`${p}_shortcut_bn`, cout, out));
      }
      ops.push(add(fused ? `${p}_bn2_add` : `${p}_add`, numel), relu(fused ? `${p}_bn2_relu` : `${p}_relu2`, numel));
      cin = cout;
      hw = out;
    }
  });
  if (r.arch.stem === 'cifar') {
    // F.avg_pool2d(out, 4): functional, not counted.
    const pooled = Math.floor((hw - 4) / 4) + 1;
    if (pooled !== 1) throw new Error(`the CIFAR head avg-pools 4×4 to 1×1; input ${r.arch.inputShape.join('×')} gives a ${hw}×${hw} final map, use 28×28 to 32×32 inputs`);
    ops.push({ kind: 'avgpool2d', name: 'avgpool', kernel: 4, outNumel: cin, counted: false, role: 'pool' });
  } else {
    ops.push({ kind: 'global-avgpool', name: countedLayerName('avgpool'), inNumel: cin * hw * hw, outNumel: cin, counted: true, role: 'pool' });
  }
  ops.push({ kind: 'linear', name: 'fc', inFeatures: cin, outFeatures: r.arch.numClasses, rows: 1, bias: true, masked: false, density: 1, maskable: false, role: 'head' });
  return ops;
}
