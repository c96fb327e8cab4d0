// The resolved configuration against the numbers of docs/recipes.md#cifar-100-resnet-18 and docs/sparse-training.md#schedule, and the missing-data error.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MaskUpdateSchedule } from '@sparse-ift/core';
import { resnetFlopBudget, resolveResNet } from '@sparse-ift/resnet';
import { learningRate } from '@sparse-ift/train';
import { loadCifarData, resolveConfig } from '../src/index.js';

describe('cifar100-resnet18 paper preset', () => {
  const config = resolveConfig('paper');

  it("uses the recipe's optimiser, batch, epochs and sparse schedule (docs/recipes.md#cifar-100-resnet-18)", () => {
    expect(config.recipe.optimizer).toEqual({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, decay: 'all' });
    expect(config.recipe.batchSize).toBe(128);
    expect(config.recipe.epochs).toBe(200);
    expect(config.recipe.labelSmoothing).toBe(0);
    expect(config.mask).toEqual({ frequency: 100, dropFraction: 0.3, endFraction: 0.75, distribution: 'uniform', init: 'random' });
    expect(config.arch.baseWidth).toBe(64);
    expect(config.arch.numClasses).toBe(100);
    expect(config.model.factorizedMiddle).toBe('nonlinear_relu');
    expect(config.tableMetric).toBe('last-epoch');
  });

  it('decays the LR ×0.2 one epoch late: 0.1 to epoch 60, 0.02 to 120, 0.004 to 160, then 0.0008', () => {
    const lr = (epoch: number) => learningRate(config.recipe.optimizer.lr, config.recipe.schedule, { step: 0, epoch });
    const expected: [number, number][] = [[0, 0.1], [60, 0.1], [61, 0.02], [120, 0.02], [121, 0.004], [160, 0.004], [161, 0.0008], [199, 0.0008]];
    for (const [epoch, value] of expected) expect(lr(epoch)).toBeCloseTo(value, 12);
  });

  it('has 391 steps per epoch, 78,200 steps and updates ending at 58,650 (docs/sparse-training.md#schedule)', () => {
    const stepsPerEpoch = Math.ceil(50_000 / config.recipe.batchSize);
    expect(stepsPerEpoch).toBe(391);
    const schedule = new MaskUpdateSchedule({ totalSteps: stepsPerEpoch * config.recipe.epochs, frequency: config.mask.frequency, endFraction: config.mask.endFraction });
    expect(schedule.totalSteps).toBe(78_200);
    expect(schedule.end).toBe(58_650);
  });

  it('lists dense, 4 families × 3 sparsities with RigL, and Sparse Wide static/SET at each s (19 rows)', () => {
    expect(config.rows).toHaveLength(19);
    expect(config.rows.filter((r) => r.method === 'rigl')).toHaveLength(12);
    expect(config.rows.filter((r) => r.family === 'sparse-wide').map((r) => `${r.method}@${r.sparsity}`).sort()).toEqual(
      ['rigl@0.5', 'rigl@0.75', 'rigl@0.9', 'set@0.5', 'set@0.75', 'set@0.9', 'static@0.5', 'static@0.75', 'static@0.9'].sort(),
    );
  });

  it('builds the reference network (docs/reference-values.md#cifar-100-resnet-18): 1,115,226,800 dense FLOPs; Sparse Wide masks at 0.4958 / 0.7518 / 0.9012 after the budget search', () => {
    expect(resnetFlopBudget(config.arch)).toBe(1_115_226_800);
    const searched = [0.5, 0.75, 0.9].map((s) => resolveResNet(config.arch, { family: 'sparse-wide', sparsity: s, flopBudgetSearch: config.model.flopBudgetSearch }).maskSparsity);
    expect(searched[0]).toBeCloseTo(0.4958, 3);
    expect(searched[1]).toBeCloseTo(0.7518, 3);
    expect(searched[2]).toBeCloseTo(0.9012, 3);
  });

  it('short preset: milestones scale with the schedule (30 epochs → 9, 18, 24)', () => {
    expect(resolveConfig('short').recipe.schedule).toEqual({ kind: 'multistep', milestones: [9, 18, 24], gamma: 0.2, lateByOne: true });
  });

  it('names the expected files and the data set card when the data is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sift-empty-'));
    expect(() => loadCifarData(empty, 0, 0)).toThrow(/train\.bin.*test\.bin.*datasets\/cifar-100\.md/);
    expect(() => loadCifarData(undefined, 0, 0)).toThrow(/--data DIR/);
  });
});
