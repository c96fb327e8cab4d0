// @sparse-ift/resnet: ResNet-18/34 (CIFAR and ImageNet stems), dense or with any Sparse-IFT family.
// Importing the package registers its models with @sparse-ift/core's registry.
export {
  RESNET18_CIFAR,
  RESNET34_CIFAR,
  RESNET18_IMAGENET,
  RESNET34_IMAGENET,
  RESNET_MINI_CIFAR,
  RESNET_ARCHS,
  resolveResNet,
  resnetFlopBudget,
  halve,
  type ResNetArch,
  type ResNetStem,
  type ResNetOptions,
  type ResolvedResNet,
  type StageSpec,
} from './config.js';
export { resnetOps } from './ops.js';
export { buildResNet, buildResolvedResNet, randomImages } from './model.js';
export { registerResNets, resnetDefinition, toResNetOptions } from './register.js';

import { registerResNets } from './register.js';
registerResNets();
