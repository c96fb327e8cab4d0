/** Finding every masked weight of a model, through layer roles (docs/deviations.md#roles-not-shapes), never by shape. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { hasMaskedParams, type MaskedParam } from '../masked-param.js';

interface HasLayers {
  layers: unknown[];
}

function hasLayers(x: unknown): x is HasLayers {
  return Array.isArray((x as Partial<HasLayers>)?.layers);
}

/**
 * All masked params of a model, in layer order, descending into nested models. A layer shared
 * between models (or used twice) is reported once. Throws if two params share a name.
 */
export function collectMaskedParams(model: LayersModel): MaskedParam[] {
  const seen = new Set<unknown>();
  const out: MaskedParam[] = [];
  const visit = (layer: unknown): void => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (hasMaskedParams(layer)) out.push(...layer.maskedParams());
    if (hasLayers(layer)) for (const inner of layer.layers) visit(inner);
  };
  for (const layer of model.layers) visit(layer);
  const names = new Set<string>();
  for (const p of out) {
    if (names.has(p.name)) throw new Error(`two masked params are both named '${p.name}'; give the layers unique names`);
    names.add(p.name);
  }
  return out;
}
