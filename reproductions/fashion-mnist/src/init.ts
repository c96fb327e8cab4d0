/**
 * Reproducible initial weights from (seed, tensor index): mulberry32 (the one in
 * `@sparse-ift/data-vision`, kept so the weights stay bit-identical) + Box–Muller. Only initial values
 * come from here; masks, SET growth and data order use the trainer's seeded streams.
 */
import { mulberry32 } from '@sparse-ift/data-vision';

function stream(seed: number, index: number): () => number {
  return mulberry32(Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
}

/** n values of N(0, std²). */
export function seededNormal(n: number, std: number, seed: number, index: number): Float32Array {
  const next = stream(seed, index);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - next();
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

/** n values of U(−bound, bound). */
export function seededUniform(n: number, bound: number, seed: number, index: number): Float32Array {
  const next = stream(seed, index);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}
