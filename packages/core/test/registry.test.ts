import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  getModelDefinition,
  listModels,
  planRegisteredModel,
  registerModel,
  unregisterModel,
  type ModelDefinition,
  type ModelOptions,
} from '../src/registry.js';

// A toy "zoo": Dense(in 6 → hidden) → Dense(hidden → 3); Sparse Wide doubles the hidden width.
const hidden = (o: ModelOptions): number => (o.family === 'sparse-wide' ? 8 : 4);
const toy: ModelDefinition = {
  name: 'toy-mlp',
  description: 'test model',
  task: 'image-classification',
  inputShape: [6],
  numClasses: 3,
  families: ['dense', 'sparse-wide'],
  create: (o) => {
    const input = tfl.input({ shape: [6] });
    const h = tfl.layers.dense({ units: hidden(o), name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, name: 'head' }).apply(h) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out });
  },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerModel(toy);
});
afterAll(() => {
  unregisterModel('toy-mlp');
});

describe('model registry', () => {
  it('lists and builds a registered model', () => {
    expect(listModels().map((d) => d.name)).toContain('toy-mlp');
    expect(getModelDefinition('toy-mlp')).toBe(toy);
    const m = createModel('toy-mlp', { family: 'sparse-wide', sparsity: 0.5 });
    expect(m.outputs[0]!.shape).toEqual([null, 3]);
    m.dispose();
  });

  it('re-registering the same object is fine, another one with the same name throws', () => {
    expect(() => registerModel(toy)).not.toThrow();
    expect(() => registerModel({ ...toy })).toThrow(/already registered/);
  });

  it('unknown model lists the registered ones', () => {
    expect(() => createModel('nope', { family: 'dense', sparsity: 0 })).toThrow(/unknown model 'nope'.*toy-mlp/);
  });

  it('unknown or unsupported family lists the valid ones', () => {
    expect(() => createModel('toy-mlp', { family: 'sparse-parallel', sparsity: 0.5 })).toThrow(/supports: dense, sparse-wide/);
    // @ts-expect-error a bad family name, as a CLI user might type it
    expect(() => createModel('toy-mlp', { family: 'wide', sparsity: 0.5 })).toThrow(/valid families: dense, sparse-wide, sparse-parallel/);
  });

  it('an option the definition does not list is refused, with the closest valid name', () => {
    const withOptions: ModelDefinition = { ...toy, name: 'toy-mlp-opts', options: { hiddenUnits: 'units of the hidden layer' } };
    registerModel(withOptions);
    try {
      expect(() => createModel('toy-mlp-opts', { family: 'dense', sparsity: 0, hiddenUnits: 4 })).not.toThrow();
      expect(() => createModel('toy-mlp-opts', { family: 'dense', sparsity: 0, hiddenUnts: 4 })).toThrow(
        "unknown option 'hiddenUnts' for model 'toy-mlp-opts'; did you mean 'hiddenUnits'? valid options: family, sparsity, method, seed, hiddenUnits",
      );
      expect(() => createModel('toy-mlp', { family: 'dense', sparsity: 0, zzz: 1 })).toThrow("unknown option 'zzz' for model 'toy-mlp'; valid options: family, sparsity, method, seed");
    } finally {
      unregisterModel('toy-mlp-opts');
    }
  });

  it('bad sparsity names itself', () => {
    expect(() => createModel('toy-mlp', { family: 'sparse-wide', sparsity: 1 })).toThrow(/sparsity must be a number in \[0, 1\)/);
    expect(() => createModel('toy-mlp', { family: 'dense', sparsity: 0.5 })).toThrow(/needs sparsity 0/);
    expect(() => createModel('toy-mlp', { family: 'sparse-wide', sparsity: 0 })).toThrow(/use family 'dense'/);
  });

  it('plans by building and walking when the definition has no flopOps', () => {
    const plan = planRegisteredModel('toy-mlp', { family: 'sparse-wide', sparsity: 0.5 }, { convention: 'paper' });
    // dense baseline MACs 6·4 + 4·3 = 36; widened 6·8 + 8·3 = 72 (plain Dense layers are unmasked)
    expect(plan.totals).toMatchObject({ denseFlops: 36, sparseFlops: 72, flopRatio: 2, params: 6 * 8 + 8 + 8 * 3 + 3 });
  });
});
