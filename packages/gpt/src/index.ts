// @sparse-ift/gpt: GPT-3 Small and small GPT decoders, dense or under any Sparse-IFT family.
// Importing the package registers gpt3-small, gpt-mini and gpt-nano with core's model registry.
// The transformer pieces (attention, embeddings, pre-LN block) are exported for @sparse-ift/vit.
export * from './config.js';
export * from './attention.js';
export * from './embeddings.js';
export * from './transformer.js';
export * from './gpt.js';
export * from './register.js';
import { registerGptModels } from './register.js';

registerGptModels();
