// The tf.js kernels that training steps of the zoo run (forward, backward, optimizer, RigL's mask update,
// evaluation): every ResNet family with the CIFAR and ImageNet stems, GPT and ViT, and the benchmark's two
// models. Traced with `npx tsx tools/bench/kernel-trace.ts`, which prints what to change here; the backend's
// tests check that each has a native (or data-sharing) kernel, and `sift doctor` reports it.
export const TRAINING_KERNELS: readonly string[] = [
  'Add', 'AddN', 'ArgMax', 'AvgPool', 'AvgPoolGrad', 'BatchMatMul', 'Cast', 'Concat', 'Conv2D', 'Conv2DBackpropFilter',
  'Conv2DBackpropInput', 'Exp', 'FusedBatchNorm', 'FusedConv2D', 'GatherV2', 'Greater', 'Identity', 'IsFinite', 'Log',
  'LogicalAnd', 'Max', 'MaxPool', 'MaxPoolGrad', 'Mean', 'Minimum', 'Multiply', 'Neg', 'OneHot', 'OnesLike', 'Pack',
  'PadV2', 'RealDiv', 'Relu', 'Reshape', 'Select', 'Slice', 'Softmax', 'SparseIftBatchNormTrain',
  'SparseIftBatchNormTrainGrad', 'SparseIftDropout', 'SparseIftGelu', 'SparseIftGeluGrad', 'SparseIftLayerNorm',
  'SparseIftLayerNormGrad', 'SparseIftMaskedConv2D', 'SparseIftMaskedConv2DGrad',
  'SparseIftMaskedMatMul', 'SparseIftMaskedMatMulGrad', 'SplitV', 'Sqrt', 'Square', 'Step', 'Sub', 'Sum', 'Tile', 'Transpose', 'Unpack',
  'UnsortedSegmentSum', 'ZerosLike', '_FusedMatMul',
];
