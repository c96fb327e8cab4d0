import { describe, expect, it } from 'vitest';
import { getExperiment, listExperiments, registerExperiment, type Experiment } from '../src/index.js';

const fake = (name: string): Experiment => ({
  name,
  description: 'test',
  presets: { quick: { description: 'q', defaultSeeds: 1 } },
  defaultPreset: 'quick',
  run: async () => ({ files: {}, table: '', summary: null }),
});

describe('experiment registry', () => {
  it('registers, lists sorted by name, and looks up', () => {
    registerExperiment(fake('zeta-test'));
    registerExperiment(fake('alpha-test'));
    const names = listExperiments().map((e) => e.name);
    expect(names.indexOf('alpha-test')).toBeLessThan(names.indexOf('zeta-test'));
    expect(getExperiment('alpha-test')?.defaultPreset).toBe('quick');
    expect(getExperiment('nope')).toBeUndefined();
  });

  it('rejects a bad name, a default preset that does not exist, and a second registration', () => {
    expect(() => registerExperiment(fake('Bad Name'))).toThrow(/lower-case/);
    expect(() => registerExperiment({ ...fake('gamma-test'), defaultPreset: 'slow' })).toThrow(/default preset 'slow'/);
    registerExperiment(fake('delta-test'));
    expect(() => registerExperiment(fake('delta-test'))).toThrow(/registered twice/);
  });
});
