import { describe, expect, it } from 'vitest';
import { distributeSparsity } from '../src/distribution.js';

describe('distributeSparsity', () => {
  it('uniform gives every masked tensor the global sparsity', () => {
    expect(distributeSparsity([[3, 3, 16, 32], [32, 10]], 0.9, 'uniform')).toEqual([0.9, 0.9]);
  });

  it('erk on three dense kernels, no tensor capped (hand-computed)', () => {
    // A [2,4]: N=8,  raw=(2+4)/8  = 0.75
    // B [4,4]: N=16, raw=(4+4)/16 = 0.5
    // C [4,12]: N=48, raw=(4+12)/48 = 1/3
    // s=0.5: ε = 0.5·72 / (0.75·8 + 0.5·16 + 48/3) = 36/30 = 1.2; ε·max raw = 0.9 <= 1
    // densities 0.9, 0.6, 0.4 (7.2 + 9.6 + 19.2 = 36 ones = half of 72) → sparsities 0.1, 0.4, 0.6
    const s = distributeSparsity([[2, 4], [4, 4], [4, 12]], 0.5, 'erk');
    expect(s[0]).toBeCloseTo(0.1, 12);
    expect(s[1]).toBeCloseTo(0.4, 12);
    expect(s[2]).toBeCloseTo(0.6, 12);
  });

  it('erk marks the highest-score tensor dense when ε·raw > 1 and solves again (hand-computed)', () => {
    // Same tensors, s=0.3: ε = 0.7·72/30 = 1.68, ε·0.75 = 1.26 > 1 → A dense.
    // Again: rhs = 0.7·(16+48) − 0.3·8 = 42.4, divisor = 0.5·16 + 48/3 = 24, ε = 53/30; ε·0.5 = 0.883 <= 1.
    // densities: A 1, B 53/60, C 53/90 → 8 + 14.1333 + 28.2667 = 50.4 = 0.7·72 ✓
    const s = distributeSparsity([[2, 4], [4, 4], [4, 12]], 0.3, 'erk');
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(7 / 60, 12);
    expect(s[2]).toBeCloseTo(37 / 90, 12);
  });

  it('erk uses every dim of a conv kernel (kh + kw + in + out)', () => {
    // conv [3,3,2,4]: N=72, raw = 12/72 = 1/6; dense [4,8]: N=32, raw = 12/32 = 3/8
    // s=0.5: ε = 52/(12 + 12) = 13/6; densities 13/36 and 13/16 (26 + 26 = 52 ones ✓)
    const s = distributeSparsity([[3, 3, 2, 4], [4, 8]], 0.5, 'erk');
    expect(s[0]).toBeCloseTo(23 / 36, 12);
    expect(s[1]).toBeCloseTo(3 / 16, 12);
  });

  it('er uses (in, out) = the last two dims of the tf.js layout', () => {
    // conv [3,3,2,4]: raw = (2+4)/(2·4) = 0.75, N = 72; dense [4,8]: raw = 12/32 = 0.375, N = 32
    // s=0.5: ε = 52/(54 + 12) = 26/33; densities 13/22 and 13/44 (42.545 + 9.4545 = 52 ✓)
    const s = distributeSparsity([[3, 3, 2, 4], [4, 8]], 0.5, 'er');
    expect(s[0]).toBeCloseTo(9 / 22, 12);
    expect(s[1]).toBeCloseTo(31 / 44, 12);
  });

  it('erk power scale p raises the raw score to p', () => {
    // p = 2: raws 0.5625, 0.25, 1/9; s = 0.5: ε = 36/(4.5 + 4 + 5.3333) = 36/13.8333 = 2.6024; 0.5625·ε = 1.46 > 1
    // → A dense; rhs = 32 − 4 = 28, divisor = 4 + 16/3 = 28/3, ε = 3, 0.25·3 = 0.75 → B 0.75, C 1/3
    const s = distributeSparsity([[2, 4], [4, 4], [4, 12]], 0.5, 'erk', { erkPowerScale: 2 });
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(0.25, 12);
    expect(s[2]).toBeCloseTo(2 / 3, 12);
  });

  it('names a bad input', () => {
    expect(() => distributeSparsity([[4, 4]], 1, 'erk')).toThrow(/sparsity/);
    expect(() => distributeSparsity([[4, 0]], 0.5, 'erk')).toThrow(/shape/);
    expect(() => distributeSparsity([[4, 4]], 0.5, 'bogus' as 'erk')).toThrow(/unknown sparsity distribution/);
  });
});
