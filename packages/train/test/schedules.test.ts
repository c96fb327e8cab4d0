import { describe, expect, it } from 'vitest';
import { cifarRecipe, gptRecipe, imagenetRecipe, learningRate, recipeTrainConfig, warmupFactor } from '../src/index.js';

describe('learning-rate schedules (docs/recipes.md)', () => {
  it('CIFAR multistep lands one epoch late: 0.1 through epoch 60, 0.02 from 61, 0.004 from 121, 0.0008 from 161', () => {
    const { optimizer, schedule } = cifarRecipe(200);
    const lr = (epoch: number) => learningRate(optimizer.lr, schedule, { step: 0, epoch });
    expect(lr(0)).toBe(0.1);
    expect(lr(60)).toBe(0.1);
    expect(lr(61)).toBeCloseTo(0.02, 15);
    expect(lr(120)).toBeCloseTo(0.02, 15);
    expect(lr(121)).toBeCloseTo(0.004, 15);
    expect(lr(161)).toBeCloseTo(0.0008, 15);
    expect(lr(199)).toBeCloseTo(0.0008, 15);
  });

  it('ImageNet cosine per epoch: base at 0, half at 45 of 90, 0 at 90', () => {
    const { optimizer, schedule } = imagenetRecipe(90);
    expect(learningRate(optimizer.lr, schedule, { step: 0, epoch: 0 })).toBe(0.256);
    expect(learningRate(optimizer.lr, schedule, { step: 0, epoch: 45 })).toBeCloseTo(0.128, 12);
    // cos(π/3) = 0.5 → 0.75 of base at epoch 30
    expect(learningRate(optimizer.lr, schedule, { step: 0, epoch: 30 })).toBeCloseTo(0.192, 12);
    expect(learningRate(optimizer.lr, schedule, { step: 0, epoch: 90 })).toBeCloseTo(0, 12);
  });

  it('GPT: linear warm-up 0 → 6e-4 over 2,151 steps, cosine to 6e-5 at 21,511', () => {
    const { optimizer, schedule } = gptRecipe();
    const lr = (step: number) => learningRate(optimizer.lr, schedule, { step, epoch: 0 });
    expect(lr(0)).toBe(0);
    expect(lr(1000)).toBeCloseTo((6e-4 * 1000) / 2151, 15);
    expect(lr(2151)).toBeCloseTo(6e-4, 15);
    expect(lr(2151 + 19360 / 2)).toBeCloseTo(6e-5 + (6e-4 - 6e-5) / 2, 15);
    expect(lr(21511)).toBeCloseTo(6e-5, 15);
    expect(lr(30000)).toBeCloseTo(6e-5, 15);
  });

  it('recipes carry the hyper-parameters of docs/recipes.md', () => {
    expect(cifarRecipe().optimizer).toEqual({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' });
    expect(imagenetRecipe().optimizer).toEqual({ kind: 'sgd', lr: 0.256, momentum: 0.875, nesterov: false, weightDecay: 3.0517578125e-5, decay: 'matrices' });
    expect(imagenetRecipe().labelSmoothing).toBe(0.1);
    expect(gptRecipe().optimizer).toMatchObject({ kind: 'adamw', beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
    expect(gptRecipe().clipNorm).toBe(1);
  });

  it('warm-up: (t + 1)/n for the first n steps, then 1; none by default', () => {
    expect([0, 1, 3, 4, 100].map((t) => warmupFactor(t, 4))).toEqual([0.25, 0.5, 1, 1, 1]);
    expect(warmupFactor(0)).toBe(1);
  });
});

describe('recipeTrainConfig', () => {
  it("turns a recipe and a mask schedule into trainer settings, label smoothing into the objective", () => {
    const recipe = imagenetRecipe(30);
    const config = recipeTrainConfig(recipe, { frequency: 100, dropFraction: 0.3, endFraction: 0.75 }, 'rigl', 3);
    expect(config).toMatchObject({ seed: 3, epochs: 30, batchSize: 256, optimizer: recipe.optimizer, schedule: recipe.schedule, clipNorm: undefined });
    expect(config.mask).toEqual({ method: 'rigl', frequency: 100, dropFraction: 0.3, endFraction: 0.75 });
    expect(config.objective.name).toBe('classification, label smoothing 0.1');
  });
});
