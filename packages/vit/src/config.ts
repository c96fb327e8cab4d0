/**
 * ViT configurations (patch 16 at 224², timm's vit_{tiny,small,base}_patch16_224) and small CPU
 * configs for 28×28 and 32×32 images. Sparse Wide widths come from core (docs/sparse-ift.md#sparse-wide, docs/sparse-ift.md#which-layers).
 */
export interface VitConfig {
  name: string;
  imageSize: number;
  channels: number;
  patchSize: number;
  dModel: number;
  heads: number;
  layers: number;
  /** d_ff = mlpRatio × d_model, at every width. */
  ffnMultiplier: number;
  numClasses: number;
  /** Dropout after attention output and MLP (timm default 0). */
  dropout: number;
  attentionDropout: number;
  /** 1e-6 (timm / Google ViT). */
  layerNormEpsilon: number;
  /** Truncated-normal std (±2σ) of every transformer linear, the head and the position table (timm: 0.02). */
  initStd: number;
}

function config(c: Omit<VitConfig, 'ffnMultiplier' | 'layerNormEpsilon' | 'initStd' | 'dropout' | 'attentionDropout'> & Partial<VitConfig>): VitConfig {
  return { ffnMultiplier: 4, layerNormEpsilon: 1e-6, initStd: 0.02, dropout: 0, attentionDropout: 0, ...c };
}

export const VIT_TI16 = config({ name: 'vit-ti16', imageSize: 224, channels: 3, patchSize: 16, dModel: 192, heads: 3, layers: 12, numClasses: 1000 });
export const VIT_S16 = config({ name: 'vit-s16', imageSize: 224, channels: 3, patchSize: 16, dModel: 384, heads: 6, layers: 12, numClasses: 1000 });
export const VIT_B16 = config({ name: 'vit-b16', imageSize: 224, channels: 3, patchSize: 16, dModel: 768, heads: 12, layers: 12, numClasses: 1000 });
/** 28×28×1 (MNIST, Fashion-MNIST): patch 7 → 16 patches, 4 layers × d 64, 4 heads. */
export const VIT_MINI_28 = config({ name: 'vit-mini-28', imageSize: 28, channels: 1, patchSize: 7, dModel: 64, heads: 4, layers: 4, numClasses: 10 });
/** 32×32×3 (CIFAR): patch 4 → 64 patches, 6 layers × d 128, 4 heads. */
export const VIT_MINI_32 = config({ name: 'vit-mini-32', imageSize: 32, channels: 3, patchSize: 4, dModel: 128, heads: 4, layers: 6, numClasses: 10 });

export const VIT_CONFIGS: readonly VitConfig[] = [VIT_TI16, VIT_S16, VIT_B16, VIT_MINI_28, VIT_MINI_32];

export function patchCount(c: Pick<VitConfig, 'imageSize' | 'patchSize' | 'name'>): number {
  if (c.imageSize % c.patchSize !== 0) {
    throw new Error(`${c.name}: image size ${c.imageSize} is not a multiple of patch size ${c.patchSize}`);
  }
  return (c.imageSize / c.patchSize) ** 2;
}
