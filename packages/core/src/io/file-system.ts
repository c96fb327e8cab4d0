/**
 * tf.js models saved to and loaded from a folder with Node's own file system, without tfjs-node:
 * `model.json` (topology, weights manifest, metadata) and `weights.bin`, the layout tfjs-node and the
 * tf.js converter use, so either side reads the other's files.
 *
 * - `model.save('file://dir')` / `tf.loadLayersModel('file://dir/model.json')` work once this module is
 *   imported (importing `@sparse-ift/core` does it). When tfjs-node is loaded, its own `file://` handler
 *   serves those URLs instead (two handlers for one URL would make tf.js refuse both).
 * - `model.save(fileSystem('dir'))` / `tf.loadLayersModel(fileSystem('dir/model.json'))` ask for this
 *   handler explicitly, with or without tfjs-node.
 *
 * Compact: a float32 tensor holding only 0 and 1 (a mask) is stored as one byte per value, with tf.js'
 * standard uint8 quantization (scale 1, min 0), which every tf.js loader decodes back exactly.
 * Files are written to a temporary name and renamed, weights first, so `model.json` never names
 * weights that are not all there. Node's `fs` is imported only when a handler runs: browser bundles
 * of this package never load it.
 */
import * as tf from '@tensorflow/tfjs-core';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
const FILE_SCHEME = 'file://';

type WeightSpec = tf.io.WeightsManifestEntry;

/** Bytes per stored value of a weight (its quantized type's, when quantized). */
function bytesPerValue(spec: WeightSpec): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const size = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }[stored as string];
  if (size === undefined) throw new Error(`weight '${spec.name}' has dtype ${stored}, which the file handler does not store; use float32, int32 or bool`);
  return size;
}

function storedBytes(spec: WeightSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * bytesPerValue(spec);
}

/**
 * Re-encodes every plain float32 weight whose values are all exactly +0 or 1 as uint8 quantized
 * (value = byte · 1 + 0), losslessly; every other weight is copied unchanged.
 */
export function compactZeroOneWeights(specs: readonly WeightSpec[], data: ArrayBuffer): { specs: WeightSpec[]; data: ArrayBuffer } {
  const parts: Uint8Array[] = [];
  const out: WeightSpec[] = [];
  let offset = 0;
  for (const spec of specs) {
    const bytes = storedBytes(spec);
    if (offset + bytes > data.byteLength) throw new Error(`weight data ends before weight '${spec.name}' (${data.byteLength} bytes)`);
    const raw = new Uint8Array(data, offset, bytes);
    offset += bytes;
    if (spec.dtype === 'float32' && !spec.quantization) {
      const values = new Float32Array(data.slice(offset - bytes, offset));
      if (values.every((v) => v === 1 || Object.is(v, 0))) {
        parts.push(Uint8Array.from(values));
        out.push({ ...spec, quantization: { dtype: 'uint8', scale: 1, min: 0 } });
        continue;
      }
    }
    parts.push(raw);
    out.push(spec);
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return { specs: out, data: joined.buffer };
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const { writeFile, rename, unlink } = await import('node:fs/promises');
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** `dir/model.json` for a folder, the path itself for a `.json` file. */
function modelJsonPath(path: string, join: (...p: string[]) => string): string {
  return path.endsWith('.json') ? path : join(path, MODEL_JSON);
}

/**
 * The file-system IOHandler. Save: `path` is a folder (created if needed), which receives `model.json`
 * and `weights.bin`. Load: `path` is a `model.json` file or the folder that holds one.
 */
export function fileSystem(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path === '') throw new Error('fileSystem needs a folder or model.json path');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { mkdir } = await import('node:fs/promises');
      const { join } = await import('node:path');
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileSystem saves models whose topology is JSON (tf.js layers models); this one is a binary graph');
      }
      const dir = path.endsWith('.json') ? (await import('node:path')).dirname(path) : path;
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const { specs, data } = compactZeroOneWeights(artifacts.weightSpecs ?? [], weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
        ...(artifacts.initializerSignature ? { initializerSignature: artifacts.initializerSignature } : {}),
      };
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(data));
      await writeAtomic(modelJsonPath(path, join), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { ...tf.io.getModelArtifactsInfoForJSON(artifacts), weightDataBytes: data.byteLength } };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { readFile, stat } = await import('node:fs/promises');
      const { dirname, join, isAbsolute, normalize, sep } = await import('node:path');
      let file = path;
      if (!path.endsWith('.json') && (await stat(path).catch(() => undefined))?.isDirectory()) file = join(path, MODEL_JSON);
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          error.code === 'ENOENT' ? `no model at ${file}: model.save('file://<folder>') writes <folder>/model.json` : `cannot read ${file}: ${error.message}`,
        );
      });
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`${file} is not valid JSON (${(error as Error).message}); save the model again`);
      }
      if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new Error(`${file} has no modelTopology or weightsManifest; it is not a tf.js model.json`);
      }
      const dir = dirname(file);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: WeightSpec[] = [];
        const buffers: Uint8Array[] = [];
        for (const group of manifest) {
          for (const weightsPath of group.paths) {
            if (isAbsolute(weightsPath) || normalize(weightsPath).split(sep).includes('..')) {
              throw new Error(`${file} names weights file '${weightsPath}' outside its folder; refusing to read it`);
            }
            const shard = await readFile(join(dir, weightsPath)).catch((error: NodeJS.ErrnoException) => {
              throw new Error(`weights file ${join(dir, weightsPath)} (named in ${file}) cannot be read: ${error.code ?? error.message}`);
            });
            buffers.push(shard);
          }
          specs.push(...group.weights);
        }
        const total = buffers.reduce((n, b) => n + b.byteLength, 0);
        const expected = specs.reduce((n, s) => n + storedBytes(s), 0);
        if (total !== expected) {
          throw new Error(`the weights files of ${file} hold ${total} bytes but its manifest describes ${expected}; the files are damaged or from another save`);
        }
        const data = new Uint8Array(total);
        let at = 0;
        for (const b of buffers) {
          data.set(b, at);
          at += b.byteLength;
        }
        return [specs, data.buffer];
      });
    },
  };
}

/** `file://…` URLs to {@link fileSystem}, unless tfjs-node (which registers its own) is loaded. */
function fileRouter(url: string | string[]): tf.io.IOHandler | null {
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null;
  if (tf.findBackendFactory('tensorflow') != null) return null;
  return fileSystem(url.slice(FILE_SCHEME.length));
}

// Once per process, even if two copies of this package are loaded.
const registered = Symbol.for('@sparse-ift/core file:// router');
const globals = globalThis as { [registered]?: true };
if (!globals[registered]) {
  globals[registered] = true;
  // tf.js types a router as always returning a handler; null means "not mine", as its own routers return.
  const router = fileRouter as Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
}
