// @sparse-ift/transformer: the transformer pieces the GPT and ViT zoos assemble (timm's `layers`):
// multi-head attention, token/position embeddings and the tied LM head, and the pre-LN block with
// every linear under a Sparse-IFT family, together with its FLOP op list and its training memory.
export * from './attention.js';
export * from './embeddings.js';
export * from './block.js';
export * from './memory.js';
