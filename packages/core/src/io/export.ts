/**
 * Exporting a trained model as a tf.js model folder (model.json + weights.bin, masks included) that
 * `tf.loadLayersModel` and `sift evaluate` read, with what evaluation needs to know about its inputs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { fileSystem } from './file-system.js';

/** Key of this package's entry in a model.json's `userDefinedMetadata`. */
export const EXPORT_METADATA_KEY = 'sparse-ift';

/** What a model was trained on and how its inputs were prepared, stored in its model.json. */
export interface ExportedModelInfo {
  /** The data set, as `sift evaluate --data` names it (e.g. 'fashion-mnist', 'cifar100'). */
  dataset?: string;
  /**
   * How images in [0, 1] were prepared before the model, when not the data set's standard pipeline:
   * average-pooled by `pool` (per side), then standardised as (x − mean) / std.
   */
  preprocess?: { pool?: number; mean?: number; std?: number };
  /** Anything else worth keeping with the weights (experiment, family, sparsity, method, seed, accuracy). */
  run?: Record<string, string | number | boolean | null>;
}

/**
 * Saves `model` into the folder `dir` (created if needed) with {@link fileSystem}, recording `info` in
 * its model.json. The optimizer is not saved: the export is for inference and evaluation.
 */
export async function exportModel(model: LayersModel, dir: string, info: ExportedModelInfo = {}): Promise<tf.io.SaveResult> {
  const metadata = { ...(model.getUserDefinedMetadata() ?? {}), [EXPORT_METADATA_KEY]: JSON.parse(JSON.stringify(info)) as object };
  model.setUserDefinedMetadata(metadata);
  return model.save(fileSystem(dir));
}

/** The {@link ExportedModelInfo} a loaded model carries, if it was exported by {@link exportModel}. */
export function exportedModelInfo(model: LayersModel): ExportedModelInfo | undefined {
  const metadata = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const info = metadata?.[EXPORT_METADATA_KEY];
  return info && typeof info === 'object' ? (info as ExportedModelInfo) : undefined;
}
