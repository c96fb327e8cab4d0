// The resolved configuration against docs/recipes.md#imagenet-resnet, docs/sparse-training.md#schedule and docs/paper-results.md#imagenet, and shard discovery errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MaskUpdateSchedule } from '@sparse-ift/core';
import { resnetFlopBudget, resolveResNet } from '@sparse-ift/resnet';
import { learningRate } from '@sparse-ift/train';
import { findImageNetShards, paperImageNetCell, resolveConfig } from '../src/index.js';
import { writeImageNetFixture } from './fixtures.js';

describe('imagenet-resnet paper preset', () => {
  const config = resolveConfig('paper');

  it('uses the official recipe (docs/recipes.md#imagenet-resnet): SGD 0.256 (batch 256), momentum 0.875, no Nesterov, wd 2^-15 without 1-D/bias, label smoothing 0.1, 90 epochs', () => {
    expect(config.recipe.optimizer).toEqual({ kind: 'sgd', lr: 0.256, momentum: 0.875, nesterov: false, weightDecay: 3.0517578125e-5, decay: 'matrices' });
    expect(config.recipe.batchSize).toBe(256);
    expect(config.recipe.labelSmoothing).toBe(0.1);
    expect(config.recipe.epochs).toBe(90);
    expect(config.imageSize).toBe(224);
    expect(config.resizeSize).toBe(256);
    expect(config.archs.resnet18.blocksPerStage).toEqual([2, 2, 2, 2]);
    expect(config.archs.resnet34.blocksPerStage).toEqual([3, 4, 6, 3]);
    expect(config.mask).toEqual({ frequency: 100, dropFraction: 0.3, endFraction: 0.75, distribution: 'uniform', init: 'random' });
  });

  it('builds the reference networks (docs/reference-values.md#imagenet): dense FLOP budgets and Sparse Wide searched sparsities', () => {
    expect(resnetFlopBudget(config.archs.resnet18)).toBe(3_647_128_359);
    expect(resnetFlopBudget(config.archs.resnet34)).toBe(7_355_270_501);
    const expected = { resnet18: [0.5098, 0.7689, 0.916], resnet34: [0.502, 0.7593, 0.9077] };
    for (const model of ['resnet18', 'resnet34'] as const) {
      [0.5, 0.75, 0.9].forEach((s, i) => {
        expect(resolveResNet(config.archs[model], { family: 'sparse-wide', sparsity: s, flopBudgetSearch: true }).maskSparsity, `${model} s=${s}`).toBeCloseTo(expected[model][i]!, 3);
      });
    }
  });

  it('cosine-anneals the LR per epoch from 0.256 to 0 over 90 epochs', () => {
    const lr = (epoch: number) => learningRate(config.recipe.optimizer.lr, config.recipe.schedule, { step: 0, epoch });
    expect(lr(0)).toBeCloseTo(0.256, 12);
    expect(lr(45)).toBeCloseTo(0.128, 12);
    expect(lr(30)).toBeCloseTo(0.256 * 0.75, 12); // 0.5·(1 + cos(π/3))
    expect(lr(90)).toBeCloseTo(0, 12);
  });

  it('scales the LR linearly with the batch: 0.256 × 4 / 256 for the smoke batch of 4', () => {
    expect(resolveConfig('smoke').recipe.optimizer.lr).toBeCloseTo(0.004, 15);
  });

  it('RigL ends at 337,837 of 450,450 steps with 5,005 steps per epoch (docs/sparse-training.md#schedule)', () => {
    const schedule = new MaskUpdateSchedule({ totalSteps: 5005 * 90, endFraction: config.mask.endFraction, frequency: config.mask.frequency });
    expect(schedule.end).toBe(337_837);
  });

  it("lists ResNet-18 dense, SW, SP and ResNet-34 dense, SW at 0.5/0.75/0.9 (11 rows), and the paper's cells (docs/paper-results.md#imagenet)", () => {
    expect(config.rows).toHaveLength(11);
    expect(config.rows.filter((r) => r.model === 'resnet34' && r.family === 'sparse-parallel')).toHaveLength(0);
    expect(paperImageNetCell('resnet18', 'dense', 0).value).toBe(70.9);
    expect(paperImageNetCell('resnet18', 'sparse-wide', 0.9).value).toBe(74.4);
    expect(paperImageNetCell('resnet18', 'sparse-parallel', 0.9).value).toBe(74.0);
    expect(paperImageNetCell('resnet34', 'sparse-wide', 0.9).value).toBe(76.8);
    expect(paperImageNetCell('resnet18', 'sparse-wide', 0.5).value).toBeNull();
  });

  it('finds TF-slim shards (labels 1..1000 → offset −1) and names the layouts and the card when none are there', () => {
    const shards = findImageNetShards(writeImageNetFixture(1, 1));
    expect(shards).toMatchObject({ format: 'tfrecord', layout: 'tf-slim', labelOffset: -1 });
    expect(shards.train).toHaveLength(1);
    expect(() => findImageNetShards(mkdtempSync(join(tmpdir(), 'sift-empty-')))).toThrow(/train-00000-of-01024.*datasets\/imagenet\.md/);
  });
});
