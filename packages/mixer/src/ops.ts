/**
 * The MLP-Mixer forward pass as FLOP ops per image (no weights allocated), named as model.ts names
 * its layers: what `sift plan` prints and the Sparse Wide budget solve reads. Every MLP linear is
 * core's description of the family (`familyBlock` → `familyBlockOps`). Following the official
 * counter's rules (docs/flops.md#official-counter): GELUs, residual adds and the token mean are
 * functional, not counted; LayerNorms, the patch conv and every linear are.
 */
import { familyBlock, familyBlockOps, type PlanOp } from '@sparse-ift/core';
import type { ResolvedMixer } from './config.js';

/** An MLP linear (din → dout) applied at `rows` positions per image. */
function linear(r: ResolvedMixer, name: string, din: number, dout: number, rows: number): PlanOp[] {
  return familyBlockOps(familyBlock({ kind: 'linear', inFeatures: din, outFeatures: dout }, { ...r.linears, bias: true }), name, { rows });
}

export function mixerOps(r: ResolvedMixer): PlanOp[] {
  const { arch, tokens: n, hidden: c } = r;
  const side = arch.imageSize / arch.patchSize;
  const ln = (name: string): PlanOp => ({ kind: 'layernorm', name, rows: n, size: c, affine: true, role: 'ln' });
  const gelu = (name: string, numel: number): PlanOp => ({ kind: 'gelu', name, numel, counted: false, role: 'activation' });
  const residual = (name: string): PlanOp => ({ kind: 'add', name, numel: n * c, counted: false, role: 'add' });
  const ops: PlanOp[] = [
    {
      kind: 'conv2d',
      name: 'stem',
      kernelSize: [arch.patchSize, arch.patchSize],
      inChannels: arch.channels,
      outChannels: c,
      outHeight: side,
      outWidth: side,
      bias: true,
      masked: false,
      density: 1,
      maskable: false,
      role: 'stem',
    },
  ];
  for (let b = 0; b < arch.blocks; b++) {
    const p = `b${b}`;
    // Token mixing: an MLP across the n patches, applied to each of the c channels.
    ops.push(ln(`${p}_norm1`), ...linear(r, `${p}_token_fc1`, n, r.tokenMlp, c), gelu(`${p}_token_gelu`, c * r.tokenMlp), ...linear(r, `${p}_token_fc2`, r.tokenMlp, n, c), residual(`${p}_token_residual`));
    // Channel mixing: an MLP across the c channels, applied to each of the n patches.
    ops.push(ln(`${p}_norm2`), ...linear(r, `${p}_channel_fc1`, c, r.channelMlp, n), gelu(`${p}_channel_gelu`, n * r.channelMlp), ...linear(r, `${p}_channel_fc2`, r.channelMlp, c, n), residual(`${p}_channel_residual`));
  }
  ops.push(
    ln('norm'),
    { kind: 'global-avgpool', name: 'pool', inNumel: n * c, outNumel: c, counted: false, role: 'pool' },
    { kind: 'linear', name: 'head', inFeatures: c, outFeatures: r.numClasses, rows: 1, bias: true, masked: false, density: 1, maskable: false, role: 'head' },
  );
  return ops;
}
