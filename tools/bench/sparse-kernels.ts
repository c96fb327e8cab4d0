// Micro-benchmark (not a test) of the native sparse kernels against the dense oneDNN kernels
// on the same shapes, in one run:
//   npx tsx tools/bench/sparse-kernels.ts [--batch 32] [--reps 3] [--families sw,sp,sf,sd,gpt]
//        [--sparsities 0.5,0.75,0.9] [--isa avx512|avx2|scalar] [--infer-batch 64] [--json FILE]
//        [--clock wall|cpu]
// Per layer of CIFAR ResNet-18 in each Sparse-IFT family (shapes from @sparse-ift/core's iso-FLOP
// maths) and the GPT linears: ms of forward, dX and dW, dense (oneDNN; OpenBLAS sgemm for linears too)
// against sparse (NHWC in/out, i.e. with the transposes; and CHWN, the kernels' own layout), the
// min over --reps runs (the machine is shared: compare ratios from one run). Then the estimate of a whole
// training step, Σ over layers of fwd + dX + dW (the stem needs no dX), for each family network ÷ the
// dense ResNet-18, each layer on its faster path (sparse or dense) — layers the families keep dense
// count at their dense cost on both sides — and the same for inference (forward only).
// --clock cpu times process CPU seconds ÷ threads instead of wall seconds: on a machine loaded by other
// processes it measures the kernels rather than the scheduler (run with OMP_WAIT_POLICY=passive so that
// idle OpenMP threads do not spin; load imbalance between threads then goes unseen).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { loadNativeAddon } from '../../packages/backend/src/native.js';
import {
  SparseConv,
  alignedFloat32Array,
  loadSparseKernels,
  sparseConvGeometry,
  sparseLinearGeometry,
  type SparseConvGeometry,
  type SparseIsa,
  type SparseLayout,
} from '../../packages/backend/src/sparse-kernels.js';
import {
  planLayer,
  sparseWideTransformerWidth,
  sparseWideWidth,
  type Family,
} from '../../packages/core/src/isoflop.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const batch = Number(option('--batch', '32'));
const inferBatch = Number(option('--infer-batch', '64'));
const reps = Number(option('--reps', '3'));
const families = option('--families', 'sw,sp,sf,sd,gpt').split(',');
const sparsities = option('--sparsities', '0.5,0.75,0.9').split(',').map(Number);
const jsonOut = option('--json', '');
const clock = option('--clock', 'wall');

const native = loadNativeAddon();
const sparse = loadSparseKernels();
if (!native.loaded || !sparse.kernels) {
  console.error(`native sparse kernels unavailable: ${native.loaded ? (sparse as { why: string }).why : native.why}`);
  process.exit(1);
}
const addon = native.addon;
const kernels = sparse.kernels;
if (args.includes('--isa')) kernels.sparseSetIsa(option('--isa', 'auto') as SparseIsa);

// ---------------------------------------------------------------------------------------------------
// Layers.

interface Layer {
  name: string;
  g: SparseConvGeometry;
  /** Density of the mask; 1 = a dense layer (always the dense kernel). */
  density: number;
  /** Occurrences in the network. */
  count: number;
  /** The input needs no gradient (the stem reads the image). */
  noDx?: boolean;
}

const conv = (
  name: string, n: number, hw: number, c: number, o: number, k: number, stride: number, density: number, count: number, noDx = false,
): Layer => ({
  name,
  g: sparseConvGeometry([n, hw, hw, c], [k, k, c, o], stride, k === 1 ? 'valid' : 1),
  density,
  count,
  noDx,
});

/**
 * CIFAR ResNet-18 (packages/resnet): a 3×3 stem, four stages of two basic blocks (32², 16², 8², 4²), a 1×1
 * stride-2 shortcut entering stages 2-4. `blockConv` lists what one block 3×3 conv becomes.
 */
function resnet18(
  n: number, stageWidth: (stage: number) => number, stemOut: number,
  blockConv: (tag: string, hw: number, cin: number, cout: number, stride: number, count: number) => Layer[],
  shortcutDensity: number,
): Layer[] {
  const layers: Layer[] = [conv('stem 3x3', n, 32, 3, stemOut, 3, 1, 1, 1, true)];
  for (let s = 0; s < 4; s++) {
    const hw = 32 >> s;
    const w = stageWidth(s);
    if (s === 0) {
      layers.push(...blockConv(`s${s} 3x3`, hw, w, w, 1, 4));
    } else {
      const win = stageWidth(s - 1);
      layers.push(...blockConv(`s${s} 3x3/2`, hw * 2, win, w, 2, 1));
      layers.push(...blockConv(`s${s} 3x3`, hw, w, w, 1, 3));
      layers.push(conv(`s${s} 1x1/2 shortcut`, n, hw * 2, win, w, 1, 2, shortcutDensity, 1));
    }
  }
  return layers;
}

const baseWidth = (s: number) => 64 << s;

function familyNet(family: Family, s: number, n: number): Layer[] {
  const d = 1 - s;
  const block = (tag: string, hw: number, cin: number, cout: number, stride: number, count: number): Layer[] => {
    if (family === 'dense' || family === 'sparse-wide') return [conv(tag, n, hw, cin, cout, 3, stride, family === 'dense' ? 1 : d, count)];
    const plan = planLayer({ kind: 'conv', kernelSize: [3, 3], inChannels: cin, outChannels: cout, stride }, family, s);
    const t = plan.tensors;
    if (family === 'sparse-parallel') return [conv(`${tag} x${t.length} branches`, n, hw, cin, cout * t.length, 3, stride, d, count)];
    if (family === 'sparse-factorized') {
      const u = t[0]!, v = t[1]!;
      const ohw = Math.ceil(hw / stride);
      return [conv(`${tag} U`, n, hw, cin, u.dout, 3, stride, u.density, count), conv(`${tag} V 1x1`, n, ohw, u.dout, v.dout, 1, 1, v.density, count)];
    }
    // sparse-doped: the sparse full conv plus the dense low-rank U (k×k) and V (1×1).
    const out = [conv(`${tag} sparse`, n, hw, cin, cout, 3, stride, t[0]!.density, count)];
    if (t.length === 3) {
      const ohw = Math.ceil(hw / stride);
      out.push(conv(`${tag} low-rank U`, n, hw, cin, t[1]!.dout, 3, stride, 1, count), conv(`${tag} low-rank V`, n, ohw, t[1]!.dout, cout, 1, 1, 1, count));
    }
    return out;
  };
  if (family === 'sparse-wide') {
    const w0 = sparseWideWidth(64, s);
    return resnet18(n, (st) => w0 << st, w0, block, d);
  }
  return resnet18(n, baseWidth, 64, block, family === 'dense' ? 1 : d);
}

/** GPT-2 small linears (d 768, 12 heads) over 2048 tokens, Sparse Wide at s: qkv, proj, fc1, fc2. */
function gptNet(s: number, tokens: number): Layer[] {
  const d = s === 0 ? 768 : sparseWideTransformerWidth(768, 12, s);
  const density = s === 0 ? 1 : 1 - s;
  const lin = (name: string, i: number, o: number): Layer => ({ name: `${name} ${i}->${o}`, g: sparseLinearGeometry(tokens, i, o), density, count: 1 });
  return [lin('qkv', d, 3 * d), lin('proj', d, d), lin('fc1', d, 4 * d), lin('fc2', 4 * d, d)];
}

// ---------------------------------------------------------------------------------------------------
// Timing.

function now(): number {
  if (clock !== 'cpu') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 / addon.threads();
}

function minMs(fn: () => void): number {
  fn(); // warm-up: oneDNN primitive creation, scratch allocation
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    fn();
    best = Math.min(best, now() - t0);
  }
  return best;
}

function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

interface DenseTimes {
  fwd: number;
  dx: number;
  dw: number;
  /** OpenBLAS sgemm for linears (fwd, dX, dW), when it beats oneDNN's 1×1 conv. */
  library: string;
}

const denseCache = new Map<string, DenseTimes>();

function timeDense(g: SparseConvGeometry): DenseTimes {
  const key = JSON.stringify(g);
  const hit = denseCache.get(key);
  if (hit) return hit;
  const xs = g.n * g.h * g.w * g.c, ys = g.n * g.outH * g.outW * g.o, ws = g.kh * g.kw * g.c * g.o;
  const heap = new ArrayBuffer(4 * (2 * xs + 2 * ys + 2 * ws));
  const offX = 0, offW = 4 * xs, offY = offW + 4 * ws, offDx = offY + 4 * ys, offDw = offDx + 4 * xs;
  fill(new Float32Array(heap), 1);
  const run = (op: 0 | 1 | 2, a: number, b: number, out: number) =>
    addon.conv2d(heap, op, g.n, g.h, g.w, g.c, g.outH, g.outW, g.o, g.kh, g.kw, g.strideH, g.strideW, 1, 1, g.padTop, g.padLeft, a, b, out);
  addon.setConvLibrary('onednn');
  let t: DenseTimes = {
    fwd: minMs(() => run(0, offX, offW, offY)),
    dx: minMs(() => run(1, offY, offW, offDx)),
    dw: minMs(() => run(2, offX, offY, offDw)),
    library: 'onednn',
  };
  if (g.kh === 1 && g.h === 1 && g.w === 1) {
    // A linear: also OpenBLAS sgemm, x[T,in]·W[in,out]; dX = dy·Wᵀ; dW = xᵀ·dy.
    const T = g.n, I = g.c, O = g.o;
    const gemm = {
      fwd: minMs(() => addon.sgemm(heap, false, false, T, O, I, offX, offW, offY, 1, 0, 0, 0, false)),
      dx: minMs(() => addon.sgemm(heap, false, true, T, I, O, offY, offW, offDx, 1, 0, 0, 0, false)),
      dw: minMs(() => addon.sgemm(heap, true, false, I, O, T, offX, offY, offDw, 1, 0, 0, 0, false)),
    };
    if (gemm.fwd + gemm.dx + gemm.dw < t.fwd + t.dx + t.dw) t = { ...gemm, library: 'openblas' };
  }
  denseCache.set(key, t);
  return t;
}

interface SparseTimes {
  fwd: number;
  dx: number;
  dw: number;
  /** dX and dW in one sweep. */
  fused: number;
  /** The same in the kernels' own layout (no transposes). */
  chwn: { fwd: number; dx: number; dw: number; fused: number };
}

/** Activations 64-byte aligned, as the backend would allocate them. */
const aligned = (n: number) => alignedFloat32Array(kernels, n);

/**
 * As a training step runs them: the forward reads the dense weight (gathers the non-zeros' values), the
 * backward reuses those values (w = null).
 */
function timeSparse(g: SparseConvGeometry, density: number): SparseTimes {
  const xs = g.n * g.h * g.w * g.c, ys = g.n * g.outH * g.outW * g.o, ws = g.kh * g.kw * g.c * g.o;
  const x = fill(aligned(xs), 2), dy = fill(aligned(ys), 3), w = fill(new Float32Array(ws), 4);
  const y = aligned(ys), dx = aligned(xs), dw = new Float32Array(ws);
  const mask = new Float32Array(ws);
  let seed = 12345;
  for (let i = 0; i < ws; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    mask[i] = seed / 2 ** 32 < density ? 1 : 0;
  }
  const c = new SparseConv(kernels, g, mask);
  const times = (l: SparseLayout) => {
    const L = { x: l, y: l, dy: l, dx: l };
    return {
      fwd: minMs(() => c.forward(w, x, y, L)),
      dx: minMs(() => c.backwardData(null, dy, dx, L)),
      dw: minMs(() => c.backwardWeights(x, dy, dw, L)),
      fused: minMs(() => c.backward(null, x, dy, dx, dw, L)),
    };
  };
  return { ...times('nhwc'), chwn: times('chwn') };
}

// ---------------------------------------------------------------------------------------------------
// Report.

const f2 = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} threads, sparse ISA ${kernels.sparseIsa()}, ${addon.library()}`;
console.log(`# sparse kernels vs dense — ${machine}`);
console.log(`# batch ${batch}, min of ${reps} runs; ${clock === 'cpu' ? 'CPU ms per thread' : 'wall ms'}; ratio = sparse ÷ dense on the same shape (fwd / dX / dW; bwd = fused dX+dW ÷ dense dX+dW)\n`);

interface Row {
  net: string;
  layer: string;
  count: number;
  density: number;
  dense: DenseTimes;
  sparse?: SparseTimes;
}
const rows: Row[] = [];

/** Per-layer cost on its faster path, as phase 2's per-layer choice would pick it. */
function best(r: Row, layout: 'nhwc' | 'chwn'): { fwd: number; bwd: number } {
  const d = r.dense;
  const dBwd = (r.layer.startsWith('stem') ? 0 : d.dx) + d.dw;
  if (!r.sparse) return { fwd: d.fwd, bwd: dBwd };
  const s = layout === 'chwn' ? r.sparse.chwn : r.sparse;
  const sBwd = r.layer.startsWith('stem') ? s.dw : Math.min(s.fused, s.dx + s.dw);
  return { fwd: Math.min(d.fwd, s.fwd), bwd: Math.min(dBwd, sBwd) };
}

function runNet(net: string, layers: Layer[]): Row[] {
  console.log(`## ${net}`);
  console.log('| layer | × | density | dense fwd / dX / dW (lib) | sparse nhwc fwd / dX / dW / bwd | ratio fwd / dX / dW / bwd | sparse chwn fwd / bwd | ratio chwn fwd / bwd |');
  console.log('|---|---:|---:|---|---|---|---|---|');
  const out: Row[] = [];
  for (const l of layers) {
    const dense = timeDense(l.g);
    const row: Row = { net, layer: l.name, count: l.count, density: l.density, dense };
    const dTxt = `${f2(dense.fwd)} / ${l.noDx ? '—' : f2(dense.dx)} / ${f2(dense.dw)} (${dense.library})`;
    if (l.density < 1) {
      const s = timeSparse(l.g, l.density);
      row.sparse = s;
      const dBwd = dense.dx + dense.dw;
      console.log(
        `| ${l.name} [${l.g.n},${l.g.h},${l.g.w},${l.g.c}]→${l.g.o} | ${l.count} | ${l.density.toFixed(2)} | ${dTxt} | ${f2(s.fwd)} / ${f2(s.dx)} / ${f2(s.dw)} / ${f2(s.fused)} | ` +
          `${(s.fwd / dense.fwd).toFixed(2)} / ${(s.dx / dense.dx).toFixed(2)} / ${(s.dw / dense.dw).toFixed(2)} / ${(s.fused / dBwd).toFixed(2)} | ` +
          `${f2(s.chwn.fwd)} / ${f2(Math.min(s.chwn.fused, s.chwn.dx + s.chwn.dw))} | ${(s.chwn.fwd / dense.fwd).toFixed(2)} / ${(Math.min(s.chwn.fused, s.chwn.dx + s.chwn.dw) / dBwd).toFixed(2)} |`,
      );
    } else {
      console.log(`| ${l.name} [${l.g.n},${l.g.h},${l.g.w},${l.g.c}]→${l.g.o} | ${l.count} | dense | ${dTxt} | | | | |`);
    }
    out.push(row);
  }
  console.log('');
  rows.push(...out);
  return out;
}

const total = (rs: Row[], layout: 'nhwc' | 'chwn', part: 'step' | 'fwd') =>
  rs.reduce((sum, r) => {
    const b = best(r, layout);
    return sum + r.count * (part === 'fwd' ? b.fwd : b.fwd + b.bwd);
  }, 0);

const summary: Array<{ name: string; value: number }> = [];
const pct = (s: number) => Math.round(s * 100);
const famName: Record<string, Family> = { sw: 'sparse-wide', sp: 'sparse-parallel', sf: 'sparse-factorized', sd: 'sparse-doped' };
const convFamilies = families.filter((f) => f in famName);
if (convFamilies.length > 0) {
  const denseNet = runNet(`dense ResNet-18, batch ${batch}`, familyNet('dense', 0, batch));
  const denseInfer = inferBatch !== batch ? runNet(`dense ResNet-18, batch ${inferBatch} (inference)`, familyNet('dense', 0, inferBatch)) : denseNet;
  const denseStep = total(denseNet, 'nhwc', 'step');
  const denseFwd = total(denseInfer, 'nhwc', 'fwd');
  for (const f of convFamilies) {
    for (const s of sparsities) {
      const family = famName[f]!;
      const net = runNet(`${family} ${pct(s)} %, batch ${batch}`, familyNet(family, s, batch));
      for (const layout of ['nhwc', 'chwn'] as const) {
        summary.push({ name: `${f}-${pct(s)}-step-vs-dense (${layout})`, value: total(net, layout, 'step') / denseStep });
      }
      if (f === 'sw' || s === 0.9) {
        const inferNet = inferBatch !== batch ? runNet(`${family} ${pct(s)} %, batch ${inferBatch} (inference)`, familyNet(family, s, inferBatch)) : net;
        summary.push({ name: `${f}-${pct(s)}-inference-b${inferBatch}-vs-dense (nhwc)`, value: total(inferNet, 'nhwc', 'fwd') / denseFwd });
      }
    }
  }
}
if (families.includes('gpt')) {
  const denseGpt = runNet('GPT-2 small linears, 2048 tokens, dense', gptNet(0, 2048));
  const dStep = total(denseGpt, 'nhwc', 'step');
  for (const s of sparsities.filter((v) => v <= 0.75)) {
    const net = runNet(`GPT-2 small linears, 2048 tokens, Sparse Wide ${pct(s)} %`, gptNet(s, 2048));
    summary.push({ name: `gpt-sw-${pct(s)}-linears-step-vs-dense (nhwc)`, value: total(net, 'nhwc', 'step') / dStep });
  }
}

console.log('## Estimated whole-step ratios (Σ layers fwd + dX + dW on the faster path per layer ÷ dense; non-conv ops not counted)');
for (const r of summary) console.log(`- ${r.name}: ${r.value.toFixed(2)}`);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ machine, batch, inferBatch, reps, rows, ratios: summary }, null, 1));
  console.log(`\nwrote ${jsonOut}`);
}
