// @sparse-ift/gpt: GPT-3 Small and small GPT decoders, dense or under any Sparse-IFT family.
// Importing the package registers gpt3-small, gpt-mini and gpt-nano with core's model registry.
// The transformer pieces (attention, embeddings, pre-LN block) live in @sparse-ift/transformer.
export * from './config.js';
export * from './gpt.js';
export * from './register.js';
// The widths a GPT config is built at, for callers that size data or checkpoints by them.
export { transformerWidths, trainingMemoryPerSequence, type SequenceMemory, type TransformerWidths } from '@sparse-ift/transformer';
import { registerGptModels } from './register.js';

registerGptModels();
