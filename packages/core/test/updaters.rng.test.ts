import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng.js';

describe('Rng', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = Rng.fromSeed(42).uniformArray(5);
    const b = Rng.fromSeed(42).uniformArray(5);
    const c = Rng.fromSeed(43).uniformArray(5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('a saved state (through JSON) resumes the same stream', () => {
    const rng = Rng.fromSeed(5);
    rng.uniformArray(17);
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = rng.uniformArray(10);
    const resumed = Rng.fromState(saved);
    expect(Array.from(resumed.uniformArray(10))).toEqual(Array.from(expected));
    expect(() => Rng.fromState({ algorithm: 'xoroshiro128plus', state: [1] })).toThrow(/cannot restore RNG state/);
  });

  it('uniform lies in [0, 1) with mean 1/2 and variance 1/12 (n = 100k, 6σ bounds)', () => {
    const n = 100_000;
    const u = Rng.fromSeed(9).uniformArray(n);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (const x of u) {
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      sq += x * x;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / n)); // σ of the mean ≈ 9.1e−4
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('normal has mean and std as asked (n = 50k)', () => {
    const rng = Rng.fromSeed(11);
    const n = 50_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal(2, 3);
      sum += x;
      sq += x * x;
    }
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean - 2)).toBeLessThan(6 * (3 / Math.sqrt(n))); // 0.08
    expect(Math.abs(std - 3)).toBeLessThan(0.05);
  });

  it('split gives an independent stream and leaves the parent unchanged', () => {
    const parent = Rng.fromSeed(1);
    const before = parent.getState();
    const child = parent.split();
    expect(parent.getState()).toEqual(before);
    expect(Array.from(child.uniformArray(4))).not.toEqual(Array.from(Rng.fromSeed(1).uniformArray(4)));
  });

  it('shuffle permutes; sampleWithoutReplacement returns distinct members', () => {
    const rng = Rng.fromSeed(2);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    const pool = Int32Array.from([3, 9, 12, 40, 41, 77]);
    const picked = Array.from(rng.sampleWithoutReplacement(pool, 4));
    expect(new Set(picked).size).toBe(4);
    for (const x of picked) expect(Array.from(pool)).toContain(x);
    expect(() => rng.sampleWithoutReplacement(pool, 7)).toThrow(/cannot sample 7 of 6/);
  });

  it('bernoulliMask keeps each element with probability p', () => {
    const mask = Rng.fromSeed(4).bernoulliMask(40_000, 0.25);
    const ones = mask.reduce((a, b) => a + b, 0);
    expect(Math.abs(ones - 10_000)).toBeLessThan(6 * Math.sqrt(40_000 * 0.25 * 0.75)); // 6σ = 520
  });
});
