// ViT parameter and FLOP counts from the op lists (no weights), against timm's published counts.
import { describe, expect, it } from 'vitest';
import { FAMILIES, isoFlopRoundingBound, paperOpCount, planFromOps, sparseWideBaseScaling, type Family } from '@sparse-ift/core';
import { VIT_B16, VIT_S16, VIT_TI16, vitOpList, type VitConfig } from '@sparse-ift/vit';

const SPARSITIES = [0.5, 0.75, 0.9] as const;
const params = (c: VitConfig, family: Family = 'dense', s = 0) => planFromOps(vitOpList(c, { family, sparsity: s })).totals.params;

/** Per block: ln1 + ln2 4d, q/k/v/out 4(d² + d), fc1 4d² + 4d, fc2 4d² + d → 12d² + 13d. */
function vitParams(d: number, { patch = 16, channels = 3, tokens = 197, classes = 1000, layers = 12 } = {}): number {
  return patch * patch * channels * d + d + d + tokens * d + layers * (12 * d * d + 13 * d) + 2 * d + d * classes + classes;
}

describe('dense parameter counts (timm vit_*_patch16_224, 1000 classes)', () => {
  it('ViT-S/16: 22,050,664', () => {
    // patch embed 768·384 + 384 = 295,296; cls 384; pos 197·384 = 75,648; 12 blocks ·
    // (12·384² + 13·384 = 1,774,464) = 21,293,568; final LN 768; head 384·1000 + 1000 = 385,000.
    expect(params(VIT_S16)).toBe(22_050_664);
    expect(vitParams(384)).toBe(22_050_664);
  });
  it('ViT-Ti/16: 5,717,416 and ViT-B/16: 86,567,656', () => {
    expect(params(VIT_TI16)).toBe(5_717_416);
    expect(params(VIT_B16)).toBe(86_567_656);
  });
  it('Sparse Wide widens d (multiple of the heads): ViT-S d 384 → 546 / 768 / 1212 at s = 0.5 / 0.75 / 0.9', () => {
    const widths = SPARSITIES.map((s) => vitOpList(VIT_S16, { family: 'sparse-wide', sparsity: s }).ops.find((o) => o.name === 'blocks0_attn_q'));
    // exact widths: 384·√2 = 543.06 → 546 (6·91); 384·2 = 768; 384·√10 = 1214.3 → 1212 (6·202).
    expect(widths.map((o) => (o as { outFeatures: number }).outFeatures)).toEqual([546, 768, 1212]);
    expect(params(VIT_S16, 'sparse-wide', 0.75)).toBe(vitParams(768));
  });
  it('masked weights are the six block linears only (patch embed, cls, pos, LN, head dense)', () => {
    const plan = planFromOps(vitOpList(VIT_S16, { family: 'sparse-wide', sparsity: 0.75 }));
    expect(plan.totals.maskedParams).toBe(12 * 12 * 768 * 768);
    const names = new Set(plan.rows.filter((r) => r.masked).map((r) => r.name.replace(/^blocks\d+_/, '')));
    expect([...names].sort()).toEqual(['attn_k', 'attn_out', 'attn_q', 'attn_v', 'mlp_fc1', 'mlp_fc2']);
  });
});

describe('ViT-S/16 iso-FLOP over the masked linears (197 tokens), every family × s', () => {
  const rows = 197;
  const maskedMacs = (family: Family, s: number) =>
    vitOpList(VIT_S16, { family, sparsity: s }).ops.reduce((sum, op) => (op.maskable ? sum + paperOpCount(op).sparse : sum), 0);
  const dense = maskedMacs('dense', 0);
  it('dense budget = 12 layers · 12·384² MACs · 197 tokens', () => expect(dense).toBe(12 * 12 * 384 * 384 * rows));
  for (const family of FAMILIES.filter((f) => f !== 'dense')) {
    for (const s of SPARSITIES) {
      it(`${family} s=${s}`, () => {
        let bound: number;
        if (family === 'sparse-wide') {
          // |w − 384·√k| ≤ heads/2 = 3: |144·(1−s)·w² − 144·384²| ≤ 144·(1−s)·(2·exact·3 + 9) per token.
          const exact = 384 * Math.sqrt(sparseWideBaseScaling(s));
          bound = 12 * 12 * (1 - s) * (2 * exact * 3 + 9) * rows;
        } else {
          const d = 384;
          const b = (din: number, dout: number) => isoFlopRoundingBound({ kind: 'linear', inFeatures: din, outFeatures: dout }, family, s);
          bound = 12 * (4 * b(d, d) + b(d, 4 * d) + b(4 * d, d)) * rows;
        }
        expect(Math.abs(maskedMacs(family, s) - dense)).toBeLessThanOrEqual(bound + 1e-12 * dense);
      });
    }
  }
});
