// `sift plan`'s table as a person reads it, against hand counts and the published values in docs/.
import { describe, expect, it } from 'vitest';
import { sift } from './run-sift.js';

const cells = (line: string): string[] => line.trim().split(/\s{2,}/);
const COUNT = /^\d{1,3}(,\d{3})*$/;

describe('sift plan', () => {
  it('plain column names, the solved Sparse Wide mask sparsity labelled, whole FLOPs', async () => {
    const r = await sift('plan', 'resnet18-cifar', '--family', 'sparse-wide', '--sparsity', '0.9');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('resnet18-cifar, family sparse-wide, s = 0.9: forward FLOPs per sample (official convention, the Cerebras counter)');
    // s* = 0.9012 for CIFAR ResNet-18 at s = 0.9 (docs/flops.md#sparse-wide-budget); 19 masked convs: 16 3×3 + 3 shortcuts.
    expect(lines[1]).toMatch(/^mask sparsity 0\.9012 on 19 masked layers: s = 0\.9 sets the widths, the sparsity is solved so this model costs the dense model's FLOPs/);
    const header = lines.find((l) => l.startsWith('layer'))!;
    expect(cells(header)).toEqual(['layer', 'role', 'shape', 'params', 'mask sparsity', 'FLOPs', 'FLOPs unmasked']);
    const conv = cells(lines.find((l) => l.startsWith('s0b0_conv1 '))!);
    // 3×3×202×202 = 367,236 weights at 32×32 positions: 367,236·1024 multiplies + 367,235·1024 adds.
    expect(conv).toEqual(['s0b0_conv1', 'wide-weight', '3×3×202×202', '367,236', '0.9012', expect.stringMatching(COUNT), '752,098,304']);
    // The whole network: this model within rounding of the published dense budget 1,115,226,800 (docs/flops.md).
    expect(r.stdout).toContain('dense model 1,115,226,800: ratio 1.0000');
  });

  it('leaves rows without parameters or FLOPs out unless --all-layers', async () => {
    const short = (await sift('plan', 'resnet18-cifar', '--family', 'sparse-wide', '--sparsity', '0.9')).stdout;
    const all = (await sift('plan', 'resnet18-cifar', '--family', 'sparse-wide', '--sparsity', '0.9', '--all-layers')).stdout;
    const rows = (text: string) => text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('layer')) + 1).filter((l) => /^\S+\s{2,}/.test(l));
    // The CIFAR ResNet-18's functional ops (docs/flops.md#official-counter): 17 ReLUs (stem + 2 per block × 8), 8 residual adds, 1 avg-pool.
    expect(rows(all).length - rows(short).length).toBe(26);
    expect(short).toContain('(26 rows without parameters or FLOPs not shown: activations, uncounted adds and pooling; --all-layers lists them)');
    expect(rows(short).some((l) => l.startsWith('stem_bn_relu '))).toBe(false);
    expect(cells(rows(all).find((l) => l.startsWith('stem_bn_relu '))!)).toEqual(['stem_bn_relu', 'activation', '-', '-', '-', '0', '0']);
  });

  it('prints every FLOP and MAC count as a whole number, in both conventions', async () => {
    for (const convention of ['official', 'paper']) {
      const out = (await sift('plan', 'resnet18-cifar', '--family', 'sparse-wide', '--sparsity', '0.9', '--convention', convention)).stdout;
      const lines = out.split('\n');
      const at = lines.findIndex((l) => l.startsWith('layer'));
      for (const line of lines.slice(at + 1).filter((l) => /^\S+\s{2,}/.test(l))) {
        const c = cells(line);
        expect(c.slice(-2), line).toEqual([expect.stringMatching(COUNT), expect.stringMatching(COUNT)]);
      }
      // The totals: no fraction anywhere (the paper convention's density-scaled MACs are rounded for display).
      expect(out).not.toMatch(/\d,\d{3}\.\d/);
    }
  });

  it('"dense" means the dense model only: never an unmasked weight or an unmasked cost', async () => {
    for (const args of [['resnet18-imagenet', '--family', 'dense'], ['gpt-nano', '--family', 'sparse-wide', '--sparsity', '0.5'], ['resnet18-cifar', '--family', 'sparse-parallel', '--sparsity', '0.75']]) {
      const out = (await sift('plan', ...args, '--all-layers')).stdout;
      const uses = [...out.matchAll(/(\S+ )?\bdense\b( \S+)?/g)].map((m) => m[0]);
      expect(uses.length).toBeGreaterThan(0);
      // the family's name, or the dense model (the baseline, not widened)
      expect(uses.filter((u) => !/^family dense\b|dense model\b/.test(u)), `${args.join(' ')}: ${uses.join(' | ')}`).toEqual([]);
    }
  });
});
