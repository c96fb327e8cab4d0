// Seeded weight init of the ViT: same seed → same model; layers and Sparse Parallel branches differ.
import { describe, expect, it } from 'vitest';
import { VIT_MINI_28, buildVit, type VitConfig } from '@sparse-ift/vit';
import { kernelOf, useBackend, weightsOf } from '../../transformer/test/helpers.js';

const TINY: VitConfig = { ...VIT_MINI_28, name: 'vit-tiny-seed-test', dModel: 32, heads: 2, layers: 2 };

describe('seeded ViT weights', () => {
  it('same seed → identical weights; different seed → different patch embedding, class token, positions, blocks, head', async () => {
    await useBackend('cpu');
    const a = buildVit(TINY, { family: 'sparse-parallel', sparsity: 0.5, seed: 5 });
    const b = buildVit(TINY, { family: 'sparse-parallel', sparsity: 0.5, seed: 5 });
    const c = buildVit(TINY, { family: 'sparse-parallel', sparsity: 0.5, seed: 6 });
    expect(weightsOf(b)).toEqual(weightsOf(a));
    for (const name of ['patch_embed', 'cls_token', 'pos_embed', 'blocks0_attn_q_sp0', 'head']) expect(kernelOf(c, name)).not.toEqual(kernelOf(a, name));
    expect(kernelOf(a, 'blocks0_mlp_fc1_sp0')).not.toEqual(kernelOf(a, 'blocks0_mlp_fc1_sp1'));
    expect(kernelOf(a, 'blocks0_attn_q_sp0')).not.toEqual(kernelOf(a, 'blocks1_attn_q_sp0'));
    [a, b, c].forEach((m) => m.dispose());
  });
});
