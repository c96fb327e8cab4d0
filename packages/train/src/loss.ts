import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean softmax cross-entropy with PyTorch's label smoothing: the target is (1 − ε)·onehot + ε/K, so
 * loss = (1 − ε)·NLL + ε·mean_k(−log p_k). (Functional tf.* calls: chained ops are not registered
 * when only tfjs-core is imported.)
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const logProbs = tf.logSoftmax(logits);
    const onehot = tf.cast(tf.oneHot(labels, numClasses), 'float32');
    const target = labelSmoothing > 0 ? tf.add(tf.mul(onehot, 1 - labelSmoothing), labelSmoothing / numClasses) : onehot;
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
  });
}
