/**
 * GPT configurations: GPT-3 Small as the Cerebras Sparse-IFT configs train it
 * (docs/recipes.md#gpt-3-small-wikitext-103) and small CPU configs with the same architecture.
 * Widths under Sparse Wide come from `transformerWidths` (@sparse-ift/transformer), which asks core.
 */

export interface GptConfig {
  name: string;
  vocabSize: number;
  /** Context length: rows of the learned position table. */
  contextLength: number;
  /** Dense d_model (Sparse Wide widens it). */
  dModel: number;
  heads: number;
  layers: number;
  /** d_ff = ffnMultiplier × d_model, at every width (docs/sparse-ift.md#sparse-wide: the FFN stays 4× hidden). */
  ffnMultiplier: number;
  /** Residual, embedding and FFN dropout. */
  dropout: number;
  attentionDropout: number;
  layerNormEpsilon: number;
  /** Truncated-normal std (cut at ±2σ) of embeddings and weights; the same at every width. */
  initStd: number;
  /** Std of the "output layers" (attention output projection, FFN second linear): initStd/√(2·layers). */
  outputInitStd: number;
}

function config(c: Omit<GptConfig, 'outputInitStd' | 'ffnMultiplier' | 'layerNormEpsilon' | 'initStd'>): GptConfig {
  return {
    ffnMultiplier: 4,
    layerNormEpsilon: 1e-5,
    initStd: 0.02,
    ...c,
    // GPT-2 / Cerebras: 0.02/√(2·n_layers); 0.004082482904638631 for 12 layers (docs/recipes.md#gpt-3-small-wikitext-103).
    outputInitStd: 0.02 / Math.sqrt(2 * c.layers),
  };
}

/** GPT-3 Small (125 M): 12 × 768, 12 heads, context 1024, GPT-2 BPE vocabulary (docs/recipes.md#gpt-3-small-wikitext-103). */
export const GPT3_SMALL: GptConfig = config({
  name: 'gpt3-small',
  vocabSize: 50257,
  contextLength: 1024,
  dModel: 768,
  heads: 12,
  layers: 12,
  dropout: 0.1,
  attentionDropout: 0.1,
});

/** CPU config: 4 layers, d 256, 4 heads, context 256, GPT-2 vocabulary. */
export const GPT_MINI: GptConfig = config({
  name: 'gpt-mini',
  vocabSize: 50257,
  contextLength: 256,
  dModel: 256,
  heads: 4,
  layers: 4,
  dropout: 0.1,
  attentionDropout: 0.1,
});

/** Test config: 2 layers, d 32, 2 heads, context 16, a 97-token vocabulary, no dropout (deterministic). */
export const GPT_NANO: GptConfig = config({
  name: 'gpt-nano',
  vocabSize: 97,
  contextLength: 16,
  dModel: 32,
  heads: 2,
  layers: 2,
  dropout: 0,
  attentionDropout: 0,
});

export const GPT_CONFIGS: readonly GptConfig[] = [GPT3_SMALL, GPT_MINI, GPT_NANO];
