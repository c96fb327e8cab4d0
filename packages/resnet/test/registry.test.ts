/** The ResNet zoo through core's registry and `sift plan`. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Command } from 'commander';
import { createModel, getModelDefinition, listModels, planRegisteredModel } from '@sparse-ift/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '@sparse-ift/resnet';
import { registerPlanCommand } from '../../cli/src/commands/plan.js';
import { UsageError } from '../../cli/src/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('registry', () => {
  it('registers the five ResNets with every family', () => {
    const names = listModels().map((d) => d.name);
    for (const n of ['resnet18-cifar', 'resnet34-cifar', 'resnet18-imagenet', 'resnet34-imagenet', 'resnet-mini-cifar']) expect(names).toContain(n);
    expect(getModelDefinition('resnet18-imagenet').families).toEqual(['dense', 'sparse-wide', 'sparse-parallel', 'sparse-factorized', 'sparse-doped']);
  });

  it('createModel builds the small config with an override', () => {
    const m = createModel('resnet-mini-cifar', { family: 'sparse-factorized', sparsity: 0.5, numClasses: 7, inputShape: [28, 28, 1] });
    expect(m.outputs[0]!.shape).toEqual([null, 7]);
    m.dispose();
  });

  it('bad options name themselves', () => {
    expect(() => createModel('resnet-mini-cifar', { family: 'sparse-doped', sparsity: 0.5, dopedMaskLowRank: 'yes' })).toThrow(/dopedMaskLowRank must be true or false/);
    expect(() => createModel('resnet-mini-cifar', { family: 'sparse-doped', sparsity: 0.5, widht: 3 })).toThrow(/unknown option 'widht' for model 'resnet-mini-cifar'; valid options: family, sparsity, method, seed, flopBudgetSearch/);
  });

  it('planRegisteredModel uses the op list: ResNet-18 ImageNet SW 0.9 has 112,827,090 params and is iso-FLOP', () => {
    const plan = planRegisteredModel('resnet18-imagenet', { family: 'sparse-wide', sparsity: 0.9 });
    expect(plan.totals.params).toBe(112_827_090);
    expect(plan.totals.denseFlops).toBe(3_647_128_359);
    expect(Math.abs(plan.totals.flopRatio - 1)).toBeLessThan(1e-3);
    // the widened model with full masks costs far more: f_D (docs/deviations.md#pitfall-dense-flops-widened)
    expect(plan.byConvention.official.wholeNetwork.instantiatedDenseFlops).toBeGreaterThan(9 * 3_647_128_359);
  });
});

describe('sift plan', () => {
  let out = '';
  afterEach(() => {
    vi.restoreAllMocks();
    out = '';
  });
  async function run(args: string[]): Promise<void> {
    const program = new Command().exitOverride();
    registerPlanCommand(program);
    for (const c of program.commands) c.exitOverride();
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    await program.parseAsync(['node', 'sift', 'plan', ...args]);
  }

  it('--json prints one object with model, family, sparsity, layers and totals (SP 0.9 CIFAR: docs/reference-values.md#cifar-100-resnet-18)', async () => {
    await run(['resnet18-cifar', '--family', 'sparse-parallel', '--sparsity', '0.9', '--json']);
    const plan = JSON.parse(out) as { model: string; family: string; sparsity: number; layers: unknown[]; totals: Record<string, number> };
    expect(plan).toMatchObject({ model: 'resnet18-cifar', family: 'sparse-parallel', sparsity: 0.9 });
    expect(plan.totals.params).toBe(110_158_500);
    expect(plan.totals.denseFlops).toBe(1_115_226_800);
    expect(Number(plan.totals.flopRatio!.toFixed(4))).toBe(1.0176);
    // 10 branches × 16 block convs + 3 shortcuts are masked
    expect(plan.layers.filter((l) => (l as { masked: boolean }).masked)).toHaveLength(163);
    expect(plan.totals.maskedParams).toBeGreaterThan(0);
  });

  it('prints a table with both views', async () => {
    await run(['resnet18-cifar', '--family', 'sparse-doped', '--sparsity', '0.5', '--opt', 'dopedMaskLowRank=true']);
    expect(out).toMatch(/s0b0_conv1_sparse/);
    expect(out).toMatch(/FLOPs \(official\) +this model .* ratio 0\.7462/);
    expect(out).toMatch(/masked layers only/);
  });

  it('--walk builds the model and reports realised densities, same params as the op list', async () => {
    await run(['resnet-mini-cifar', '--family', 'sparse-parallel', '--sparsity', '0.5', '--walk', '--seed', '3', '--json']);
    const walked = JSON.parse(out) as { layers: { masked: boolean; density: number }[]; totals: Record<string, number> };
    out = '';
    await run(['resnet-mini-cifar', '--family', 'sparse-parallel', '--sparsity', '0.5', '--json']);
    const listed = JSON.parse(out) as { totals: Record<string, number> };
    expect(walked.totals.params).toBe(listed.totals.params);
    const masked = walked.layers.filter((l) => l.masked);
    expect(masked.length).toBeGreaterThan(0);
    for (const l of masked) expect(Math.abs(l.density - 0.5)).toBeLessThan(0.2);
    expect(walked.totals.flopRatio).toBeGreaterThan(0.9);
    expect(walked.totals.flopRatio).toBeLessThan(1.1);
  });

  it('bad model, family or sparsity is a usage error listing valid values', async () => {
    await expect(run(['resnet19', '--family', 'dense'])).rejects.toThrow(UsageError);
    await expect(run(['resnet19', '--family', 'dense'])).rejects.toThrow(/valid models: .*resnet18-cifar/);
    await expect(run(['resnet18-cifar', '--family', 'wide', '--sparsity', '0.5'])).rejects.toThrow(/valid families: dense, sparse-wide/);
    await expect(run(['resnet18-cifar', '--family', 'sparse-wide', '--sparsity', '1.5'])).rejects.toThrow(/bad --sparsity '1.5'/);
    await expect(run(['resnet18-cifar', '--family', 'sparse-wide'])).rejects.toThrow(/--sparsity is required/);
  });
});
