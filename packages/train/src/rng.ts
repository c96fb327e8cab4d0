/**
 * A small seeded RNG (sfc32, seeded through splitmix32) whose whole state is four uint32s, so a
 * checkpoint can store it and a resumed run draws the same numbers. Stand-in until core's rng.ts is
 * exported; the trainer only needs `next()`, `state()` and `fromState()`.
 */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: RngState;

  /** Seeds from any number of integers, e.g. (seed, epoch), so independent streams need no shared state. */
  constructor(...seedParts: number[]) {
    let h = 0x12345678;
    for (const part of seedParts) h = splitmix32(h ^ (part >>> 0) ^ Math.floor(part / 2 ** 32))();
    const mix = splitmix32(h);
    this.s = [mix(), mix(), mix(), mix()];
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.s = [...state] as RngState;
    return rng;
  }

  state(): RngState {
    return [...this.s] as RngState;
  }

  nextUint32(): number {
    let [a, b, c, d] = this.s;
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    this.s = [a >>> 0, b >>> 0, c, d];
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box–Muller; one value per call keeps the state simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The sample order of one epoch: a Fisher–Yates permutation that depends only on (seed, epoch). */
export function epochPermutation(count: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng(seed, epoch, 0x5eed);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
