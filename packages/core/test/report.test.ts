import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskedParam } from '../src/masked-param.js';
import { formatSparsityReport, realisedDensity, sparsityReport } from '../src/report.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const vars: tf.Variable[] = [];
afterAll(() => vars.forEach((v) => v.dispose()));

function param(name: string, shape: number[], maskValues: number[], weightValues: number[], sparsity: number): MaskedParam {
  const weight = tf.variable(tf.tensor(weightValues, shape), true);
  const mask = tf.variable(tf.tensor(maskValues, shape), false);
  vars.push(weight, mask);
  return { name, layerName: name.split('/')[0], role: 'parallel-branch', sparsity, weight, mask };
}

describe('sparsity report', () => {
  // a: [2,3] with 2 ones (one holding a 0 weight), target 0.5; b: [2,2] with 3 ones, target 0.25
  const a = param('l1/a', [2, 3], [1, 0, 0, 1, 0, 0], [0.5, 0, 0, 0, 0, 0], 0.5);
  const b = param('l2/b', [2, 2], [1, 1, 0, 1], [1, 2, 0, 3], 0.25);

  it('counts mask ones per tensor and overall', () => {
    const r = sparsityReport([a, b]);
    expect(r.rows[0]).toEqual({
      name: 'l1/a',
      layerName: 'l1',
      role: 'parallel-branch',
      shape: [2, 3],
      numel: 6,
      nonzeros: 2,
      weightNonzeros: 1,
      targetSparsity: 0.5,
      realisedSparsity: 1 - 2 / 6,
    });
    expect(r.rows[1]).toMatchObject({ numel: 4, nonzeros: 3, weightNonzeros: 3, realisedSparsity: 0.25 });
    // overall: 5 ones of 10; target ones 0.5·6 + 0.75·4 = 6 of 10
    expect(r.numel).toBe(10);
    expect(r.nonzeros).toBe(5);
    expect(r.realisedSparsity).toBeCloseTo(0.5, 12);
    expect(r.targetSparsity).toBeCloseTo(0.4, 12);
  });

  it('realisedDensity is Σ ones / Σ numel, not the mean of per-tensor densities', () => {
    const d = realisedDensity([a, b]);
    expect(d.overall).toBeCloseTo(0.5, 12); // the per-tensor mean would be (1/3 + 3/4)/2 = 0.5417
    expect(d.perTensor).toEqual([
      { name: 'l1/a', density: 2 / 6 },
      { name: 'l2/b', density: 0.75 },
    ]);
  });

  it('a model without masks: nothing counted, density 1', () => {
    expect(sparsityReport([])).toMatchObject({ numel: 0, nonzeros: 0, realisedSparsity: 0 });
    expect(realisedDensity([]).overall).toBe(1);
  });

  it('formats one line per tensor plus a total', () => {
    const text = formatSparsityReport(sparsityReport([a, b]));
    const lines = text.split('\n');
    expect(lines.length).toBe(4);
    expect(lines[1]).toContain('l1/a');
    expect(lines[1]).toContain('[2×3]');
    expect(lines[3]).toMatch(/^total.*10\s+5\s+0\.4000\s+0\.5000$/);
  });
});
