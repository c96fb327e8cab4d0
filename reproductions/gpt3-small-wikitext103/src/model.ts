/** One row's GPT (`@sparse-ift/gpt`) as the trainer's model: token ids in, next-token logits out. */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { layersTrainable, type TrainableModel } from '@sparse-ift/train';

export function gptTrainable(model: LayersModel): TrainableModel {
  return layersTrainable(model, (ids, training) => model.apply(ids, { training }) as tf.Tensor);
}
