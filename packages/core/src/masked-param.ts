/**
 * The contract between sparse layers and everything that trains or counts them: a masked weight and
 * its mask, found through explicit layer roles (docs/deviations.md#roles-not-shapes), never by tensor shape.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TensorRole } from './isoflop.js';

export interface MaskedParam {
  /** Unique weight name, e.g. `block1/conv1/kernel`. */
  name: string;
  /** Name of the layer holding it. */
  layerName: string;
  role: TensorRole;
  /** Target sparsity of this tensor (after the distribution, e.g. ERK, is applied). */
  sparsity: number;
  /** The trainable weight (kernel), the same object tf.js optimizers and `variableGrads` see. */
  weight: tf.Variable;
  /** 0/1 mask of the weight's shape, a non-trainable weight saved with the model. */
  mask: tf.Variable;
}

/** Implemented by every layer that owns masked weights. */
export interface HasMaskedParams {
  maskedParams(): MaskedParam[];
}

export function hasMaskedParams(layer: unknown): layer is HasMaskedParams {
  return typeof (layer as Partial<HasMaskedParams>)?.maskedParams === 'function';
}
