// Parameter and FLOP counts of GPT-3 Small from its op list (no weights allocated), against
// hand-derived numbers and the table of docs/reference-values.md#gpt-3-small.
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  isoFlopRoundingBound,
  paperOpCount,
  planFromOps,
  sparseWideBaseScaling,
  type Family,
  type PlanOp,
} from '@sparse-ift/core';
import { GPT3_SMALL, gptOpList } from '@sparse-ift/gpt';

const T = 1024;
const SPARSITIES = [0.5, 0.75, 0.9] as const;
const ops = (family: Family, sparsity: number) => gptOpList(GPT3_SMALL, { family, sparsity });

/** Paper-convention MACs per token of the ops `pick` selects (dense and at target density). */
function macsPerToken(list: PlanOp[], pick: (op: PlanOp) => boolean): { dense: number; sparse: number } {
  let dense = 0;
  let sparse = 0;
  for (const op of list) {
    if (!pick(op)) continue;
    const c = paperOpCount(op);
    dense += c.dense;
    sparse += c.sparse;
  }
  return { dense: dense / T, sparse: sparse / T };
}
const maskable = (op: PlanOp) => op.maskable === true;
const attention = (op: PlanOp) => op.kind === 'matmul';
const head = (op: PlanOp) => op.role === 'lm-head';

/** Hand formula: V·d (tied wte) + ctx·d (wpe) + L·(12d² + 13d) + 2d (ln_f); see the first test. */
function gptParams(d: number, v = 50257, ctx = 1024, layers = 12): number {
  return v * d + ctx * d + layers * (12 * d * d + 13 * d) + 2 * d;
}

describe('GPT-3 Small parameter count', () => {
  it('dense has 124,439,808 parameters (GPT-2 small at context 1024, tied embedding)', () => {
    // wte 50257·768 = 38,597,376; wpe 1024·768 = 786,432; per block: ln1 + ln2 2·1536 = 3,072,
    // q/k/v/out 4·(768² + 768) = 2,362,368, fc1 768·3072 + 3072 = 2,362,368, fc2 3072·768 + 768 =
    // 2,360,064 → 7,087,872, ×12 = 85,054,464; ln_f 1,536; LM head tied (0).
    // 38,597,376 + 786,432 + 85,054,464 + 1,536 = 124,439,808.
    expect(planFromOps(ops('dense', 0)).totals.params).toBe(124_439_808);
    expect(gptParams(768)).toBe(124_439_808);
  });

  it('Sparse Wide widens every hidden width: d 1092 at s=0.5, 1536 at s=0.75 ([MZ])', () => {
    expect(planFromOps(ops('sparse-wide', 0.5)).totals.params).toBe(gptParams(1092));
    expect(planFromOps(ops('sparse-wide', 0.75)).totals.params).toBe(gptParams(1536));
    const fc1 = ops('sparse-wide', 0.75).ops.find((op) => op.name === 'h0_mlp_fc1');
    expect(fc1).toMatchObject({ kind: 'linear', inFeatures: 1536, outFeatures: 6144, masked: true, density: 0.25 });
  });

  it('masked params are exactly the six block linears (q, k, v, out, fc1, fc2), never embeddings, LN or head', () => {
    const plan = planFromOps(ops('sparse-wide', 0.5));
    // 12 layers · 12·1092² weights; biases, LNs, wte, wpe dense.
    expect(plan.totals.maskedParams).toBe(12 * 12 * 1092 * 1092);
    const maskedNames = new Set(plan.rows.filter((r) => r.masked).map((r) => r.name.replace(/^h\d+_/, '')));
    expect([...maskedNames].sort()).toEqual(['attn_k', 'attn_out', 'attn_q', 'attn_v', 'mlp_fc1', 'mlp_fc2']);
  });
});

describe('forward MACs per token at context 1024 (docs/reference-values.md#gpt-3-small)', () => {
  // Hand: masked linears 12 layers · (4d² + 2·d·4d) = 144·d² (× density); attention QKᵀ + AV
  // 12 · 2 · T · d per token (all T×T scores); LM head d · 50257.
  const cases = [
    { family: 'dense' as const, s: 0, d: 768, linears: 84_934_656, attn: 18_874_368, head: 38_597_376, table: [84.9, 18.9, 38.6] },
    { family: 'sparse-wide' as const, s: 0.5, d: 1092, linears: 85_857_408, attn: 26_836_992, head: 54_880_644, table: [85.9, 26.8, 54.9] },
    { family: 'sparse-wide' as const, s: 0.75, d: 1536, linears: 84_934_656, attn: 37_748_736, head: 77_194_752, table: [84.9, 37.7, 77.2] },
  ];
  for (const c of cases) {
    it(`${c.family} ${c.s}: ${c.table.join(' M / ')} M`, () => {
      const list = ops(c.family, c.s).ops;
      const lin = macsPerToken(list, maskable).sparse;
      const attn = macsPerToken(list, attention).sparse;
      const lm = macsPerToken(list, head).sparse;
      expect(lin).toBeCloseTo(c.linears, 3);
      expect(attn).toBe(c.attn);
      expect(lm).toBe(c.head);
      // The one-decimal figures of docs/reference-values.md#gpt-3-small (in millions).
      expect(Math.round(lin / 1e5) / 10).toBe(c.table[0]);
      expect(Math.round(attn / 1e5) / 10).toBe(c.table[1]);
      expect(Math.round(lm / 1e5) / 10).toBe(c.table[2]);
    });
  }
});

describe('iso-FLOP over the masked linears, every family × s', () => {
  const dense = macsPerToken(ops('dense', 0).ops, maskable).dense * T; // 84,934,656 · T
  it('the dense budget is 144·768² MACs per token', () => expect(dense).toBe(144 * 768 * 768 * T));

  for (const family of FAMILIES.filter((f) => f !== 'dense' && f !== 'sparse-wide')) {
    for (const s of SPARSITIES) {
      it(`${family} s=${s}: within core's per-layer rounding bound`, () => {
        const sparse = macsPerToken(ops(family, s).ops, maskable).sparse * T;
        // Bound: per linear, isoflop's rounding bound (per row) × rows; 12 layers of 4 d×d, d×4d, 4d×d.
        const d = 768;
        const perLayer =
          4 * isoFlopRoundingBound({ kind: 'linear', inFeatures: d, outFeatures: d }, family, s) +
          isoFlopRoundingBound({ kind: 'linear', inFeatures: d, outFeatures: 4 * d }, family, s) +
          isoFlopRoundingBound({ kind: 'linear', inFeatures: 4 * d, outFeatures: d }, family, s);
        // + float slack of summing ~100 products of size 1e9 (relative 1e-12).
        expect(Math.abs(sparse - dense)).toBeLessThanOrEqual(12 * perLayer * T + 1e-12 * dense);
      });
    }
  }

  for (const s of SPARSITIES) {
    it(`sparse-wide s=${s}: within the multiple-of-heads rounding bound`, () => {
      const sparse = macsPerToken(ops('sparse-wide', s).ops, maskable).sparse * T;
      // Width w = exact + δ, exact = 768·√round(1/(1−s)), |δ| ≤ heads/2 = 6 (rounded to a multiple
      // of 12). Masked MACs 144·w²·(1−s) vs 144·768²: |diff| ≤ 144·(1−s)·(2·exact·6 + 36) per token
      // (plus float slack: (1−s)·round(1/(1−s)) is 1 only up to rounding).
      const k = sparseWideBaseScaling(s);
      const exact = 768 * Math.sqrt(k);
      const bound = 144 * (1 - s) * (2 * exact * 6 + 36) * T + 1e-9 * dense;
      expect(Math.abs(sparse - dense)).toBeLessThanOrEqual(bound);
    });
  }
});
