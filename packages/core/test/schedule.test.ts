import { describe, expect, it } from 'vitest';
import { MaskUpdateSchedule } from '../src/schedule.js';

describe('MaskUpdateSchedule', () => {
  // CIFAR-100 numbers of docs/sparse-training.md#schedule: 391 iterations × 200 epochs = 78,200 steps; end = int(0.75·78200).
  const cifar = new MaskUpdateSchedule({ totalSteps: 78_200 });

  it('CIFAR-100 defaults: end 58,650, ΔT 100, 586 updates from 100 to 58,600', () => {
    expect(cifar.end).toBe(58_650);
    expect(cifar.frequency).toBe(100);
    const steps = cifar.updateSteps();
    expect(steps.length).toBe(586);
    expect(cifar.numUpdates()).toBe(586);
    expect(steps[0]).toBe(100);
    expect(steps[585]).toBe(58_600);
  });

  it('CIFAR-100 cosine drop fraction: α(100) ≈ 0.2999978, α(58,600) ≈ 5.4e−7 (docs/sparse-training.md#schedule)', () => {
    expect(cifar.dropFraction(100)).toBeCloseTo(0.2999978, 7);
    // 0.3·0.5·(1 + cos(π·58600/58650)) = 0.15·(1 − cos(π·50/58650)) ≈ 0.15·(π·50/58650)²/2 = 5.38e−7
    const late = cifar.dropFraction(58_600);
    expect(late).toBeGreaterThan(5.3e-7);
    expect(late).toBeLessThan(5.5e-7);
    expect(cifar.dropFraction(0)).toBeCloseTo(0.3, 15);
    expect(cifar.dropFraction(58_650 / 2)).toBeCloseTo(0.15, 12);
  });

  it('update iff begin < t < end and t mod ΔT == 0 (t after increment)', () => {
    expect(cifar.isUpdateStep(0)).toBe(false);
    expect(cifar.isUpdateStep(99)).toBe(false);
    expect(cifar.isUpdateStep(100)).toBe(true);
    expect(cifar.isUpdateStep(150)).toBe(false);
    expect(cifar.isUpdateStep(58_600)).toBe(true);
    expect(cifar.isUpdateStep(58_700)).toBe(false);
  });

  it('short schedule: total 1000, ΔT 100 → end 750, updates 100..700', () => {
    const s = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 100 });
    expect(s.end).toBe(750);
    expect(s.updateSteps()).toEqual([100, 200, 300, 400, 500, 600, 700]);
    // an end on a multiple of ΔT is excluded (strict t < end)
    const full = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 100, endFraction: 0.8 });
    expect(full.updateSteps()).toEqual([100, 200, 300, 400, 500, 600, 700]);
    const all = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 250, endFraction: 1 });
    expect(all.updateSteps()).toEqual([250, 500, 750]);
  });

  it('begin excludes t <= begin and shifts the anneal', () => {
    const s = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 100, begin: 300 });
    expect(s.updateSteps()).toEqual([400, 500, 600, 700]);
    // α(t) = 0.3·0.5·(1 + cos(π·(t − 300)/(750 − 300))); at t = 525 the cosine is 0
    expect(s.dropFraction(525)).toBeCloseTo(0.15, 12);
  });

  it('dense gradient is needed on the backward whose counter after increment is an update step', () => {
    const s = new MaskUpdateSchedule({ totalSteps: 1000, frequency: 100 });
    expect(s.needsDenseGradient(100)).toBe(true);
    expect(s.needsDenseGradient(99)).toBe(false);
    expect(s.needsDenseGradient(800)).toBe(false);
  });

  it('constant and exponential decays', () => {
    const constant = new MaskUpdateSchedule({ totalSteps: 1000, decay: 'constant', dropFraction: 0.5 });
    expect(constant.dropFraction(700)).toBe(0.5);
    // α₀·exp(−E·t/end): E = 2, t = 375, end = 750 → 0.3·e^−1
    const exp = new MaskUpdateSchedule({ totalSteps: 1000, decay: 'exponential', decayExponent: 2 });
    expect(exp.dropFraction(375)).toBeCloseTo(0.3 * Math.exp(-1), 12);
  });

  it('round-trips through JSON and names bad options', () => {
    const s = new MaskUpdateSchedule({ totalSteps: 5000, frequency: 50, begin: 100, endFraction: 0.8, decay: 'cosine' });
    const back = MaskUpdateSchedule.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(back.updateSteps()).toEqual(s.updateSteps());
    expect(back.dropFraction(1234)).toBe(s.dropFraction(1234));
    expect(() => new MaskUpdateSchedule({ totalSteps: 100, endFraction: 0 })).toThrow(/endFraction/);
    expect(() => new MaskUpdateSchedule({ totalSteps: 100, endFraction: 0.5, endStep: 50 })).toThrow(/not both/);
    expect(() => new MaskUpdateSchedule({ totalSteps: 100, frequency: 0 })).toThrow(/frequency/);
    expect(() => new MaskUpdateSchedule({ totalSteps: 100, dropFraction: 1 })).toThrow(/drop fraction/);
  });
});
