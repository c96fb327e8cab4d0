// Saving and loading through the file-system IOHandler, without tfjs-node: file:// URLs and the explicit
// handler round-trip a model of core's sparse layers (masks, roles, outputs bit for bit); masks take one
// byte per value; standard tf.js files (float32 masks) load; damaged folders get errors naming the file.
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectMaskedParams } from '../src/layers/collect.js';
import { sparseIftConv2D, sparseIftDense } from '../src/layers/blocks.js';
import { MaskedDense } from '../src/layers/masked-dense.js';
import { exportModel, exportedModelInfo } from '../src/io/export.js';
import { fileSystem } from '../src/io/file-system.js';

const work = mkdtempSync(join(tmpdir(), 'sift-io-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Sparse Factorized conv (with BatchNorm), Sparse Parallel dense, a plain MaskedDense head. */
function net(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  let h = sparseIftConv2D(input, { family: 'sparse-factorized', filters: 4, kernelSize: 3, sparsity: 0.5, name: 'conv1', maskSeed: 1 });
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  h = sparseIftDense(h, { family: 'sparse-parallel', units: 6, sparsity: 0.75, name: 'fc1', maskSeed: 2 });
  const out = new MaskedDense({ name: 'head', units: 3, sparsity: 0.5, role: 'wide-weight', maskSeed: 3 }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const x = tf.randomUniform([5, 8, 8, 3], -1, 1, 'float32', 7);
const outputs = (m: tfl.LayersModel) => Array.from((m.predict(x) as tf.Tensor).dataSync());
const masks = (m: tfl.LayersModel) => collectMaskedParams(m).map((p) => ({ name: p.name, role: p.role, sparsity: p.sparsity, mask: Array.from(p.mask.dataSync()) }));

describe('file-system IOHandler', () => {
  it("model.save('file://dir') + tf.loadLayersModel('file://dir/model.json'): same outputs and masks, masks at one byte per value", async () => {
    const model = net();
    // Train-like state: no weight but the masks holds only 0s and 1s (fresh biases and BatchNorm statistics do).
    const isMask = (w: tfl.LayerVariable) => w.originalName.endsWith('/mask');
    model.weights.filter((w) => !isMask(w)).forEach((w) => w.write(tf.add(w.read(), 0.25)));
    const dir = join(work, 'url');
    await model.save(`file://${dir}`);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const specs = json.weightsManifest[0]!.weights;
    expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    const maskSpecs = specs.filter((s) => s.name.endsWith('/mask'));
    expect(maskSpecs.length).toBe(collectMaskedParams(model).length);
    for (const s of maskSpecs) expect(s.quantization).toEqual({ dtype: 'uint8', scale: 1, min: 0 });
    // The file's size: 4 bytes per value of every weight, 1 per mask value.
    const size = (w: tfl.LayerVariable) => w.shape.reduce((a, b) => a * b, 1);
    expect(statSync(join(dir, 'weights.bin')).size).toBe(model.weights.reduce((n, w) => n + size(w) * (isMask(w) ? 1 : 4), 0));

    const loaded = await tfl.loadLayersModel(`file://${dir}/model.json`);
    expect(outputs(loaded)).toEqual(outputs(model));
    expect(masks(loaded)).toEqual(masks(model));
    model.dispose();
    loaded.dispose();
  });

  it('the explicit handler: save to a folder, load from the folder or its model.json; exportModel records its info', async () => {
    const model = net();
    const dir = join(work, 'explicit');
    await exportModel(model, dir, { dataset: 'fashion-mnist', preprocess: { pool: 2, mean: 0.3, std: 0.35 }, run: { family: 'sparse-parallel' } });
    for (const source of [dir, join(dir, 'model.json')]) {
      const loaded = await tfl.loadLayersModel(fileSystem(source));
      expect(outputs(loaded)).toEqual(outputs(model));
      expect(exportedModelInfo(loaded)).toEqual({ dataset: 'fashion-mnist', preprocess: { pool: 2, mean: 0.3, std: 0.35 }, run: { family: 'sparse-parallel' } });
      loaded.dispose();
    }
    model.dispose();
  });

  it('reads the standard layout other tf.js tools write (float32 masks, weights in two shards)', async () => {
    const model = net();
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void model.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) })));
    });
    const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
    const dir = join(work, 'standard');
    rmSync(dir, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
    const cut = 4 * 10; // a float32 boundary inside the first weight
    writeFileSync(join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
    writeFileSync(join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
    const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }] };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const loaded = await tfl.loadLayersModel(`file://${dir}/model.json`);
    expect(outputs(loaded)).toEqual(outputs(model));
    model.dispose();
    loaded.dispose();
  });

  it('a missing model, a missing or truncated weights file, a weights path outside the folder: errors that name the file', async () => {
    await expect(tfl.loadLayersModel(`file://${join(work, 'nothing')}/model.json`)).rejects.toThrow(/no model at .*nothing.*model\.json/);
    const model = net();
    const dir = join(work, 'damaged');
    await model.save(fileSystem(dir));
    const bytes = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), bytes.subarray(0, bytes.length - 3));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/hold \d+ bytes but its manifest describes \d+/);
    rmSync(join(dir, 'weights.bin'));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/weights file .*weights\.bin .*cannot be read/);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    json.weightsManifest[0]!.paths = ['../../etc/passwd'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(tfl.loadLayersModel(fileSystem(dir))).rejects.toThrow(/outside its folder/);
    model.dispose();
  });

  it('leaves file:// to tfjs-node when it is loaded (two handlers for one URL would make tf.js refuse both)', () => {
    expect(tf.io.getSaveHandlers('file:///tmp/m')).toHaveLength(1);
    // tfjs-node registers the 'tensorflow' backend when imported; a stand-in factory is enough here.
    tf.registerBackend('tensorflow', () => null as unknown as tf.KernelBackend, -1);
    try {
      expect(tf.io.getSaveHandlers('file:///tmp/m')).toHaveLength(0);
      expect(tf.io.getLoadHandlers('file:///tmp/m/model.json')).toHaveLength(0);
    } finally {
      tf.removeBackend('tensorflow');
    }
  });
});
