// Seeded weight init: the build seed fixes every weight, each layer and each Sparse Parallel branch
// drawing from its own stream.
import { describe, expect, it } from 'vitest';
import { GPT_NANO, buildGpt } from '@sparse-ift/gpt';
import { kernelOf, useBackend, weightsOf } from '../../transformer/test/helpers.js';

describe('seeded GPT weights', () => {
  it('same seed → identical weights (every tensor); different seed → different random weights', async () => {
    await useBackend('cpu');
    const a = buildGpt(GPT_NANO, { family: 'sparse-factorized', sparsity: 0.5, seed: 7 });
    const b = buildGpt(GPT_NANO, { family: 'sparse-factorized', sparsity: 0.5, seed: 7 });
    const c = buildGpt(GPT_NANO, { family: 'sparse-factorized', sparsity: 0.5, seed: 8 });
    expect(weightsOf(b)).toEqual(weightsOf(a));
    for (const name of ['wte', 'wpe', 'h0_attn_q_u', 'h1_mlp_fc2_v']) expect(kernelOf(c, name)).not.toEqual(kernelOf(a, name));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('layers and Sparse Parallel branches get their own streams', async () => {
    await useBackend('cpu');
    const m = buildGpt(GPT_NANO, { family: 'sparse-parallel', sparsity: 0.5, seed: 3 });
    // Same shape [32, 32], same std, same seed of the model: they must still differ.
    expect(kernelOf(m, 'h0_attn_q_sp0')).not.toEqual(kernelOf(m, 'h0_attn_q_sp1'));
    expect(kernelOf(m, 'h0_attn_q_sp0')).not.toEqual(kernelOf(m, 'h0_attn_k_sp0'));
    expect(kernelOf(m, 'h0_attn_q_sp0')).not.toEqual(kernelOf(m, 'h1_attn_q_sp0'));
    // Two different seeds of tfjs' alea give different streams, so even masked-out entries aside,
    // the surviving weights of the two branches share no value.
    const sp0 = new Set(kernelOf(m, 'h0_attn_q_sp0').filter((v) => v !== 0));
    expect(kernelOf(m, 'h0_attn_q_sp1').filter((v) => v !== 0 && sp0.has(v))).toHaveLength(0);
    m.dispose();
  });
});
