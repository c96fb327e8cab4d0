// @sparse-ift/core's mask selections in WGSL (what a SET/RigL update ranks), exact and with the host's ties.
//
// topKByMagnitude(values, candidates, k): the bits of |x| (a float's bits with the sign cleared) order
// non-negative floats as unsigned integers, subnormals included, so the k-th largest key T among the
// candidates is found by a radix select over four 8-bit digits: per digit, a histogram of the candidates
// that share the digits chosen so far (workgroup atomics), then one thread walks it from the top. Every
// candidate above T is kept, and of those equal to T the first `remaining` in index order: their ranks
// come from a scan (per-block counts, one workgroup scanning the block counts, a workgroup scan inside
// each block). selectByRank(candidates, ranks) uses the same scan to give each candidate its rank and
// keeps it when a binary search finds the rank in the sorted list. Everything stays on the device.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { SELECT_BY_RANK, TOP_K_BY_MAGNITUDE, type TopKByMagnitudeAttrs } from '@sparse-ift/core';
import { REDUCE_THREADS, callKernel, dispose, i32, perSlotProgram, run, view } from './program.js';

type Program = ReturnType<typeof perSlotProgram>;

/** Elements per workgroup in the block passes: each thread takes ITEMS consecutive ones. */
const ITEMS = 4;
const BLOCK = REDUCE_THREADS * ITEMS;
/** Workgroups of the histogram passes (each thread strides over the tensor). */
const HISTOGRAM_GROUPS = 256;

const u32 = (value: number) => ({ type: 'uint32', data: [value >>> 0] });

const HELPERS = `
  fn magKey(v : f32) -> u32 {
    return bitcast<u32>(v) & 0x7fffffffu;
  }
  var<workgroup> scanBuffer : array<i32, ${REDUCE_THREADS}>;
  // Exclusive prefix sum of v over the workgroup's threads (every thread must call it).
  fn exclusiveScan(v : i32) -> i32 {
    scanBuffer[localIndex] = v;
    workgroupBarrier();
    for (var offset = 1u; offset < ${REDUCE_THREADS}u; offset = offset * 2u) {
      var add = 0;
      if (localIndex >= offset) {
        add = scanBuffer[localIndex - offset];
      }
      workgroupBarrier();
      scanBuffer[localIndex] = scanBuffer[localIndex] + add;
      workgroupBarrier();
    }
    return scanBuffer[localIndex] - v;
  }`;

function withHelpers(program: Program, extra = ''): Program {
  const user = program.getUserCode;
  program.getUserCode = () => HELPERS + extra + user();
  return program;
}

function blocksOf(n: number): number {
  return Math.ceil(n / BLOCK);
}

/**
 * Per block of BLOCK elements, how many are flagged (`flag(i)`, WGSL over the program's inputs), then the
 * exclusive prefix of those counts over the blocks: [blocks] int32 offsets.
 */
function blockOffsets(backend: WebGPUBackend, key: string, names: string[], inputs: TensorInfo[], n: number, flag: string): TensorInfo {
  const blocks = blocksOf(n);
  // Sizes are uniforms, never baked into the code: tf.js caches a pipeline per shaderKey and input ranks.
  const countProgram = withHelpers(perSlotProgram(`${key}Count`, names, [blocks], blocks, 'n : i32, blocks : i32,', `
    let b = slot();
    var c = 0;
    if (b < uniforms.blocks) {
      let base = b * ${BLOCK} + i32(localIndex) * ${ITEMS};
      for (var j = 0; j < ${ITEMS}; j = j + 1) {
        let i = base + j;
        if (i < uniforms.n && flagged(i)) { c = c + 1; }
      }
    }
    let total = reduceSum0(f32(c));
    if (b < uniforms.blocks && localIndex == 0u) { result[b] = i32(total); }`), `fn flagged(i : i32) -> bool { ${flag} }`);
  const counts = run(backend, countProgram, inputs, [i32(n), i32(blocks)], 'int32');
  // One workgroup: each thread sums a contiguous run of blocks, the runs' totals are scanned, then
  // each thread writes its run's prefixes.
  const scanProgram = withHelpers(perSlotProgram(`${key}BlockScan`, ['counts'], [blocks], 1, 'blocks : i32,', `
    let per = (uniforms.blocks + ${REDUCE_THREADS - 1}) / ${REDUCE_THREADS};
    let first = i32(localIndex) * per;
    let end = min(first + per, uniforms.blocks);
    var s = 0;
    for (var j = first; j < end; j = j + 1) { s = s + counts[j]; }
    var running = exclusiveScan(s);
    for (var j = first; j < end; j = j + 1) {
      result[j] = running;
      running = running + counts[j];
    }`));
  const offsets = run(backend, scanProgram, [counts], [i32(blocks)], 'int32');
  dispose(backend, counts);
  return offsets;
}

/**
 * The final pass: per block, each thread counts its flagged items, the workgroup scan gives the thread's
 * first rank (block offset + threads before it), and `decide` (WGSL, sees `i`, `rank`, `isFlagged`) writes
 * result[i] for each of its items, ranks counting up over flagged items in index order.
 */
function decideProgram(key: string, names: string[], n: number, flag: string, uniforms: string, decide: string): Program {
  return withHelpers(perSlotProgram(`${key}Decide`, names, [n], blocksOf(n), `n : i32, blocks : i32, ${uniforms}`, `
    let b = slot();
    let valid = b < uniforms.blocks;
    let base = b * ${BLOCK} + i32(localIndex) * ${ITEMS};
    var c = 0;
    if (valid) {
      for (var j = 0; j < ${ITEMS}; j = j + 1) {
        let i = base + j;
        if (i < uniforms.n && flagged(i)) { c = c + 1; }
      }
    }
    let before = exclusiveScan(c);
    if (valid) {
      var rank = offsets[b] + before;
      for (var j = 0; j < ${ITEMS}; j = j + 1) {
        let i = base + j;
        if (i < uniforms.n) {
          let isFlagged = flagged(i);
          ${decide}
          if (isFlagged) { rank = rank + 1; }
        }
      }
    }`), `fn flagged(i : i32) -> bool { ${flag} }`);
}

function zeros(backend: WebGPUBackend, shape: number[], dtype: 'float32' | 'int32'): TensorInfo {
  return callKernel(backend, 'Fill', {}, { shape, value: 0, dtype });
}

const topKByMagnitude: KernelFunc = ({ inputs, attrs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { values, candidates } = inputs as { values: TensorInfo; candidates: TensorInfo };
  const { k } = attrs as unknown as TopKByMagnitudeAttrs;
  const n = tf.util.sizeFromShape(values.shape);
  if (k === 0 || n === 0) return zeros(backend, values.shape, 'float32');
  const flatValues = view(values, [n]);
  const flatCandidates = view(candidates, [n]);
  // state [2] int32: the key's digits chosen so far (bits), how many candidates equal to it to take.
  let state = backend.makeTensorInfo([2], 'int32', Int32Array.of(0, k));
  for (const shift of [24, 16, 8, 0]) {
    const histogram = zeros(backend, [256], 'int32');
    const histogramProgram = withHelpers(perSlotProgram('sparseIftTopKHistogram', ['values', 'candidates', 'state'], [256], HISTOGRAM_GROUPS, 'n : i32, shift : u32,', `
      atomicStore(&localHistogram[localIndex], 0u);
      workgroupBarrier();
      let prefix = bitcast<u32>(state[0]);
      let high = select(0xffffffffu << (uniforms.shift + 8u), 0u, uniforms.shift >= 24u);
      let stride = i32(numWorkgroups.x * numWorkgroups.y * numWorkgroups.z) * ${REDUCE_THREADS};
      for (var i = slot() * ${REDUCE_THREADS} + i32(localIndex); i < uniforms.n; i = i + stride) {
        if (candidates[i] != 0.0) {
          let key = magKey(values[i]);
          if ((key & high) == (prefix & high)) {
            atomicAdd(&localHistogram[(key >> uniforms.shift) & 255u], 1u);
          }
        }
      }
      workgroupBarrier();
      let c = atomicLoad(&localHistogram[localIndex]);
      if (c > 0u) { atomicAdd(&result[localIndex], i32(c)); }`), `var<workgroup> localHistogram : array<atomic<u32>, ${REDUCE_THREADS}>;`);
    (histogramProgram as Program & { atomic: boolean }).atomic = true;
    backend.runWebGPUProgram(histogramProgram, [flatValues, flatCandidates, state], 'int32', [i32(n), u32(shift)], histogram);
    // One thread walks the histogram from the top digit down to the one holding the k-th largest.
    const selectProgram = perSlotProgram('sparseIftTopKDigit', ['histogram', 'state'], [2], 1, 'shift : u32,', `
      if (localIndex == 0u) {
        var remaining = state[1];
        var digit = 255;
        loop {
          let c = histogram[digit];
          if (c >= remaining || digit == 0) { break; }
          remaining = remaining - c;
          digit = digit - 1;
        }
        result[0] = bitcast<i32>(bitcast<u32>(state[0]) | (u32(digit) << uniforms.shift));
        result[1] = remaining;
      }`);
    const next = run(backend, selectProgram, [histogram, state], [u32(shift)], 'int32');
    dispose(backend, histogram, state);
    state = next;
  }
  const tie = 'candidates[i] != 0.0 && magKey(values[i]) == bitcast<u32>(state[0])';
  const offsets = blockOffsets(backend, 'sparseIftTopKTies', ['values', 'candidates', 'state'], [flatValues, flatCandidates, state], n, `return ${tie};`);
  const decide = decideProgram('sparseIftTopK', ['values', 'candidates', 'state', 'offsets'], n, `return ${tie};`, '', `
    let key = magKey(values[i]);
    let take = candidates[i] != 0.0 && (key > bitcast<u32>(state[0]) || (isFlagged && rank < state[1]));
    result[i] = select(0.0, 1.0, take);`);
  const out = run(backend, decide, [flatValues, flatCandidates, state, offsets], [i32(n), i32(blocksOf(n))]);
  dispose(backend, state, offsets);
  return view(out, values.shape);
};

const selectByRank: KernelFunc = ({ inputs, backend: b }) => {
  const backend = b as unknown as WebGPUBackend;
  const { candidates, ranks } = inputs as { candidates: TensorInfo; ranks: TensorInfo };
  const n = tf.util.sizeFromShape(candidates.shape);
  const k = tf.util.sizeFromShape(ranks.shape);
  if (k === 0 || n === 0) return zeros(backend, candidates.shape, 'float32');
  const flat = view(candidates, [n]);
  const isCandidate = 'return candidates[i] != 0.0;';
  const offsets = blockOffsets(backend, 'sparseIftRank', ['candidates'], [flat], n, isCandidate);
  const decide = decideProgram('sparseIftSelectByRank', ['candidates', 'ranks', 'offsets'], n, isCandidate, 'k : i32,', `
    var take = false;
    if (isFlagged) {
      var lo = 0;
      var hi = uniforms.k;
      loop {
        if (lo >= hi) { break; }
        let mid = (lo + hi) / 2;
        let r = ranks[mid];
        if (r == rank) { take = true; break; }
        if (r < rank) { lo = mid + 1; } else { hi = mid; }
      }
    }
    result[i] = select(0.0, 1.0, take);`);
  const out = run(backend, decide, [flat, ranks, offsets], [i32(n), i32(blocksOf(n)), i32(k)]);
  dispose(backend, offsets);
  return view(out, candidates.shape);
};

export const topKByMagnitudeWebGPUConfig: KernelConfig = { kernelName: TOP_K_BY_MAGNITUDE, backendName: 'webgpu', kernelFunc: topKByMagnitude };
export const selectByRankWebGPUConfig: KernelConfig = { kernelName: SELECT_BY_RANK, backendName: 'webgpu', kernelFunc: selectByRank };
