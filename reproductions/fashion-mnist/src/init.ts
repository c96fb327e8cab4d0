/**
 * Reproducible initial weights from (seed, tensor index): mulberry32 + Box–Muller. Only initial
 * values come from here; masks, SET growth and data order use the trainer's seeded streams.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
