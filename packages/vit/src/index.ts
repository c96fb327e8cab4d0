// @sparse-ift/vit: Vision Transformers (ViT-Ti/S/B 16 and small CPU configs), dense or under any
// Sparse-IFT family. Importing the package registers vit-ti16, vit-s16, vit-b16, vit-mini-28 and
// vit-mini-32 with core's model registry. Transformer blocks come from @sparse-ift/transformer.
export * from './config.js';
export * from './patch.js';
export * from './vit.js';
export * from './register.js';
import { registerVitModels } from './register.js';

registerVitModels();
