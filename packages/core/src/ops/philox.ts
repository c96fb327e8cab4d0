/**
 * Philox 4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
 * the counter-based generator of cuRAND, TensorFlow and JAX: four 32-bit words are a pure function of a
 * 128-bit counter and a 64-bit key, so element i of a tensor can draw its own number on any device, in
 * any order, with no state to carry between calls. Known-answer vectors from Random123 are in the tests.
 *
 * A 32×32 → 64-bit product's high word needs splitting (JavaScript numbers and WGSL have no 64-bit
 * integers): into 16-bit halves in WGSL and `mulhi32`, the constant operand only here; all give the exact
 * product, so every backend draws the same bits.
 */

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;
export const PHILOX_ROUNDS = 10;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const hiLo = aHi * bLo;
  // < 2^32: (2^16 − 2) + (2^16 − 1) + (2^16 − 1)^2.
  const cross = ((aLo * bLo) >>> 16) + (hiLo & 0xffff) + aLo * bHi;
  return (aHi * bHi + (hiLo >>> 16) + (cross >>> 16)) >>> 0;
}

/**
 * The four words of Philox 4x32-10 for `counter` (4 words) and `key` (2 words), written to `out`.
 * Words are unsigned 32-bit integers.
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0]! >>> 0;
  let c1 = counter[1]! >>> 0;
  let c2 = counter[2]! >>> 0;
  let c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let round = 0; round < PHILOX_ROUNDS; round++) {
    // mulhi32 with the constant split once: c·M = c·M_hi·2^16 + c·M_lo, each product exact in a double.
    const hi0 = Math.floor((c0 * M0_HI + Math.floor((c0 * M0_LO) / 65536)) / 65536);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = Math.floor((c2 * M1_HI + Math.floor((c2 * M1_LO) / 65536)) / 65536);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

const M0_HI = PHILOX_M0 >>> 16;
const M0_LO = PHILOX_M0 & 0xffff;
const M1_HI = PHILOX_M1 >>> 16;
const M1_LO = PHILOX_M1 & 0xffff;
