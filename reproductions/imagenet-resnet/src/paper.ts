/** The paper's ImageNet top-1 % (docs/paper-results.md#imagenet), exactly as given: a number with its source tags, or NOT FOUND. */
import { PAPER_NOT_FOUND as NOT_FOUND, type PaperCell } from '@sparse-ift/reproduce';

export type { PaperCell };

export type ImageNetModel = 'resnet18' | 'resnet34';

export function paperImageNetCell(model: ImageNetModel, family: 'dense' | 'sparse-wide' | 'sparse-parallel', sparsity: number): PaperCell {
  if (model === 'resnet18') {
    if (family === 'dense') return { value: 70.9, source: '[OR] [EP]' };
    if (family === 'sparse-wide' && sparsity === 0.9) return { value: 74.4, source: '[OR] [EP]; +3.5 [A-ICML] [A-v1]' };
    if (family === 'sparse-parallel' && sparsity === 0.9) return { value: 74.0, source: '[EP]' };
    return NOT_FOUND;
  }
  if (family === 'dense') return { value: 74.2, source: '[EP]' };
  if (family === 'sparse-wide' && sparsity === 0.9) return { value: 76.8, source: '[EP]' };
  return NOT_FOUND;
}

export const PAPER_NOTES = [
  'Paper numbers come from secondary sources only (tags: docs/sources.md; cells: docs/paper-results.md#imagenet); cells no source gives stay NOT FOUND.',
  '[EP]: Sparse Wide ResNet-18 at 90 % (74.4) matches dense ResNet-34 (74.2) with about half the FLOPs (docs/paper-results.md#larger-dense-models).',
  'Our numbers are the top-1 accuracy on the validation set after the last epoch (centre crop); best epoch in brackets.',
];
