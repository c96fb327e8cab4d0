// Gradient fixes for tf.js 4.22 (registered for all backends; they only call public ops).
// - BatchMatMul: tfjs-core's gradient does not reduce over broadcast batch dimensions, so
//   matMul([B, m, k], [1, k, n]) (a shared right operand) fails with "gradient of input 'b' has shape
//   [B, k, n]". This one sums the broadcast dimensions away.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** Sum `g` down to `shape` over the dimensions that were broadcast. */
function sumToShape(g: Tensor, shape: number[]): Tensor {
  let out = g;
  const extra = out.rank - shape.length;
  if (extra > 0) out = tf.sum(out, Array.from({ length: extra }, (_, i) => i));
  const axes: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] === 1 && out.shape[i] !== 1) axes.push(i);
  if (axes.length > 0) out = tf.sum(out, axes, true);
  return tf.reshape(out, shape);
}

const batchMatMulGrad: GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [a, b] = saved as [Tensor, Tensor];
    const g = dy as Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    let da: () => Tensor;
    let db: () => Tensor;
    if (!transposeA && !transposeB) {
      da = () => tf.matMul(g, b, false, true);
      db = () => tf.matMul(a, g, true, false);
    } else if (!transposeA && transposeB) {
      da = () => tf.matMul(g, b, false, false);
      db = () => tf.matMul(g, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => tf.matMul(b, g, false, true);
      db = () => tf.matMul(a, g, false, false);
    } else {
      da = () => tf.matMul(b, g, true, true);
      db = () => tf.matMul(g, a, true, true);
    }
    return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
  },
};

let done: string[] | undefined;

export function registerTrainingGradients(): string[] {
  if (done) return done;
  // Silence tf.js's "overriding the gradient" warning: replacing it is the point.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(batchMatMulGrad);
  } finally {
    console.warn = warn;
  }
  done = ['BatchMatMul (broadcast batch dims)'];
  return done;
}
