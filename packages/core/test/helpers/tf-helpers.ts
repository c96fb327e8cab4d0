/** tf.js test helpers: cpu backend, in-memory save/load, finite differences. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** model.save into memory, then tf.loadLayersModel back: the full JSON + weights round trip. */
export async function saveAndLoad(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // Through JSON text, as a file on disk would be.
  const topology = JSON.parse(JSON.stringify(artifacts!.modelTopology)) as object;
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topology, weightSpecs: artifacts!.weightSpecs, weightData: artifacts!.weightData }),
  );
}

/** A deterministic pseudo-random tensor (tf.randomNormal with a seed; values in JS, backend-free). */
export function seededNormal(shape: number[], seed: number, std = 1): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', seed);
}

/**
 * Central finite difference of a scalar function of a variable's entries, at chosen flat indices:
 * (f(v + h·e_i) − f(v − h·e_i)) / 2h. Restores the variable afterwards.
 */
export function finiteDifferences(f: () => tf.Scalar, variable: tf.Variable, indices: number[], h: number): number[] {
  const base = variable.dataSync().slice();
  const out: number[] = [];
  const evalAt = (i: number, delta: number): number => {
    const values = base.slice();
    values[i] = values[i]! + delta;
    variable.assign(tf.tensor(values, variable.shape, 'float32'));
    return tf.tidy(() => f().dataSync()[0]!);
  };
  for (const i of indices) out.push((evalAt(i, h) - evalAt(i, -h)) / (2 * h));
  variable.assign(tf.tensor(base, variable.shape, 'float32'));
  return out;
}

/** Evenly spread indices over [0, n), at most `count`, always including the given extra ones. */
export function sampleIndices(n: number, count: number, extra: number[] = []): number[] {
  const set = new Set<number>(extra.filter((i) => i >= 0 && i < n));
  const step = Math.max(1, Math.floor(n / count));
  for (let i = Math.floor(step / 2); i < n && set.size < count + extra.length; i += step) set.add(i);
  return [...set].sort((a, b) => a - b);
}

/** A layer config as JSON would keep it, with undefined written as null. */
export function normalizeConfig(config: object): unknown {
  return JSON.parse(JSON.stringify(config, (_key, value: unknown) => (value === undefined ? null : value)));
}
