// Test helpers shared by the gpt and vit suites (vit imports this file from ../../gpt/test): backends,
// save/load in memory, one training step, weight values.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not initialise`);
  await tf.ready();
}

export async function roundTrip(model: LayersModel): Promise<LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return loadLayersModel(tf.io.fromMemory(artifacts!));
}

/** Loss before and after one Adam step on a fixed batch (evaluated without dropout). */
export function oneStep(model: LayersModel, loss: (training: boolean) => tf.Scalar, learningRate = 1e-2): { before: number; after: number; ms: number } {
  const optimizer = tf.train.adam(learningRate);
  const before = tf.tidy(() => loss(false).dataSync()[0]!);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const t0 = performance.now();
  const cost = optimizer.minimize(() => loss(true), true, variables);
  cost?.dataSync();
  const ms = performance.now() - t0;
  cost?.dispose();
  const after = tf.tidy(() => loss(false).dataSync()[0]!);
  optimizer.dispose();
  return { before, after, ms };
}

/** Every weight tensor of the model, as plain arrays (for exact comparisons). */
export const weightsOf = (m: LayersModel): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));

/** The values of the first weight (the kernel) of layer `layer`. */
export const kernelOf = (m: LayersModel, layer: string): number[] => Array.from(m.getLayer(layer).getWeights()[0]!.dataSync());
