// Exact top-k on the host: the k candidates with the largest scores, ties to the candidate listed first.
// The mask updaters' host rankings (./updaters.ts) and the host kernel of core's mask selection ops
// (./ops/mask-select.ts) both rank through it, so they pick the same positions.
/**
 * The k entries of `candidates` with the largest `score[candidate]`; ties go to the candidate that
 * comes first in `candidates` (pass them in ascending index order for "lower index first").
 * Returned in the order they appear in `candidates`. O(n): a quickselect finds the k-th largest score.
 */
export function topKIndices(score: ArrayLike<number>, candidates: Int32Array, k: number): Int32Array {
  const n = candidates.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`cannot pick the top ${k} of ${n} candidates`);
  if (k === 0) return new Int32Array(0);
  if (k === n) return candidates.slice();
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = score[candidates[i]];
    if (Number.isNaN(v)) throw new RangeError(`score at index ${candidates[i]} is NaN; the weights or gradients have diverged`);
    values[i] = v;
  }
  const threshold = kthSmallest(values.slice(), n - k); // the k-th largest value
  let above = 0;
  for (let i = 0; i < n; i++) if (values[i] > threshold) above++;
  let tiesToTake = k - above;
  const picked = new Int32Array(k);
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (values[i] > threshold || (values[i] === threshold && tiesToTake-- > 0)) picked[j++] = candidates[i];
  }
  return picked;
}

/**
 * The value of rank r (0-based, ascending) of `a`, reordering `a` in place: Hoare quickselect with a
 * median-of-three pivot, falling back to a full sort of the remaining range if it degenerates.
 */
function kthSmallest(a: Float64Array, r: number): number {
  let lo = 0;
  let hi = a.length - 1;
  for (let rounds = 0; hi > lo; rounds++) {
    if (rounds > 64) return a.subarray(lo, hi + 1).sort()[r - lo];
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r]; // j < r < i: equal to the pivot
  }
  return a[lo];
}
