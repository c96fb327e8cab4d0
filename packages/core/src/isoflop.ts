/**
 * The Sparse-IFT iso-FLOP maths, in one place (docs/sparse-ift.md#the-four-families, docs/deviations.md#pitfall-rounding). Every other module and package asks
 * these functions for a width, a branch count or a rank; nothing re-derives one.
 *
 * Convention (docs/sparse-ift.md#conventions): a conv is a linear layer with Din = kh·kw·Cin and Dout = Cout per output
 * position. Rounding follows the official code (CerebrasResearch/Sparse-IFT), including Python's
 * banker's `round` and the float evaluation order, so the integer shapes match the released models.
 */

export const FAMILIES = [
  'dense',
  'sparse-wide',
  'sparse-parallel',
  'sparse-factorized',
  'sparse-doped',
] as const;
export type Family = (typeof FAMILIES)[number];

export function isFamily(name: string): name is Family {
  return (FAMILIES as readonly string[]).includes(name);
}

/** Throws unless 0 <= s < 1. Every public formula calls this so a bad sparsity names itself. */
export function assertSparsity(s: number, what = 'sparsity'): void {
  if (!Number.isFinite(s) || s < 0 || s >= 1) {
    throw new RangeError(`${what} must be a number in [0, 1), got ${s}`);
  }
}

/** Python 3's round(): half to even. Math.round(2.5) is 3, Python's round(2.5) is 2 (docs/deviations.md#pitfall-rounding). */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The exact Sparse Wide widening factor k_sw = sqrt(1/(1−s)) of the paper (docs/sparse-ift.md#sparse-wide). */
export function sparseWideFactor(s: number): number {
  assertSparsity(s);
  return Math.sqrt(1 / (1 - s));
}

/**
 * The official code's `base_scaling = round(1/(1−s))` (step 1 of docs/sparse-ift.md#sparse-wide): rounding first keeps
 * s = 0.99 at exactly 100 despite float error.
 */
export function sparseWideBaseScaling(s: number): number {
  assertSparsity(s);
  return pythonRound(1 / (1 - s));
}

/**
 * Sparse Wide width of a ResNet's first stage: floor(base · sqrt(round(1/(1−s)))) (docs/sparse-ift.md#sparse-wide).
 * 64 → 90, 128, 202 at s = 0.5, 0.75, 0.9. Stage widths are (W, 2W, 4W, 8W).
 */
export function sparseWideWidth(baseWidth: number, s: number): number {
  if (s === 0) return baseWidth;
  return Math.floor(baseWidth * Math.sqrt(sparseWideBaseScaling(s)));
}

/**
 * Sparse Wide width of a transformer's d_model: base · sqrt(round(1/(1−s))), rounded to the nearest
 * multiple of the head count so heads stay equal (docs/sparse-ift.md#sparse-wide, [MZ]): 768 → 1092 (s=0.5), 1536 (s=0.75).
 * The multiple-of-heads rule is inferred from Cerebras' configs, not stated in any source.
 */
export function sparseWideTransformerWidth(dModel: number, heads: number, s: number): number {
  if (s === 0) return dModel;
  const exact = dModel * Math.sqrt(sparseWideBaseScaling(s));
  return heads * Math.max(1, pythonRound(exact / heads));
}

/** Sparse Parallel branch count k = round(1/(1−s)) (docs/sparse-ift.md#sparse-parallel): 2, 4, 10 at 0.5, 0.75, 0.9. */
export function sparseParallelBranches(s: number): number {
  assertSparsity(s);
  return pythonRound(1 / (1 - s));
}

/**
 * Sparse Factorized inner width (docs/sparse-ift.md#sparse-factorized), rounded up:
 *   d_sf = ceil(Din·Dout / ((1−s)·(Din + Dout)))
 * or, with `uOnly` (only U sparse, V dense): ceil(Din·Dout / ((1−s)·Din + Dout)).
 * For a k×k conv Din = k·k·Cin. Evaluated in the official order: (1−s) first, then the product.
 */
export function sparseFactorizedWidth(
  din: number,
  dout: number,
  s: number,
  options: { uOnly?: boolean } = {},
): number {
  assertSparsity(s);
  assertPositiveInts({ din, dout });
  const density = 1 - s;
  const denominator = options.uOnly ? density * din + dout : density * (din + dout);
  return Math.ceil((din * dout) / denominator);
}

/**
 * Sparse Doped low-rank r = floor(s·Din·Dout / (Din + Dout)) (docs/sparse-ift.md#sparse-doped): the dense U·V pays s of the
 * dense cost, the sparse full matrix the remaining (1−s).
 */
export function sparseDopedRank(din: number, dout: number, s: number): number {
  assertSparsity(s);
  assertPositiveInts({ din, dout });
  return Math.floor((s * din * dout) / (din + dout));
}

function assertPositiveInts(values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Per-layer transformation plans: what a dense linear/conv becomes under each family.
// ---------------------------------------------------------------------------------------------

/** A dense feed-forward function: a linear layer, or a conv seen per output position. */
export type DenseLayerSpec =
  | { kind: 'linear'; inFeatures: number; outFeatures: number }
  | {
      kind: 'conv';
      kernelSize: [number, number];
      inChannels: number;
      outChannels: number;
      stride?: number;
    };

/** Role of a weight tensor inside a transformed layer: decides masking explicitly (docs/deviations.md#roles-not-shapes). */
export type TensorRole =
  | 'dense-weight' // an untransformed (dense family) weight
  | 'wide-weight' // Sparse Wide widened weight, masked
  | 'parallel-branch' // one Sparse Parallel branch, masked
  | 'factorized-u' // Sparse Factorized U, masked
  | 'factorized-v' // Sparse Factorized V, masked
  | 'doped-sparse' // Sparse Doped full-size sparse weight, masked
  | 'doped-u' // Sparse Doped dense low-rank U (masked only in the released-code compatibility mode)
  | 'doped-v';

export interface PlannedTensor {
  role: TensorRole;
  /** Din×Dout of this tensor in the linear view (Din includes kh·kw for convs). */
  din: number;
  dout: number;
  /** Kernel size for convs ([1,1] for linears and 1×1 projections). */
  kernelSize: [number, number];
  masked: boolean;
  /** Target density (1 − s for masked tensors, 1 for dense ones). */
  density: number;
}

export interface LayerPlan {
  family: Family;
  sparsity: number;
  /** Inner width (SF), rank (SD), branch count (SP) or widening factor (SW) as applicable. */
  branches?: number;
  innerWidth?: number;
  rank?: number;
  widthFactor?: number;
  tensors: PlannedTensor[];
}

export interface PlanOptions {
  /** Sparse Factorized: only U sparse (`sparse_u_only`, docs/sparse-ift.md#sparse-factorized). */
  factorizedUOnly?: boolean;
  /** Sparse Doped: mask U and V too, as the released filter does (docs/sparse-ift.md#sparse-doped). Breaks iso-FLOP. */
  dopedMaskLowRank?: boolean;
}

function dims(layer: DenseLayerSpec): { din: number; dout: number; cin: number; k: [number, number] } {
  if (layer.kind === 'linear') {
    return { din: layer.inFeatures, dout: layer.outFeatures, cin: layer.inFeatures, k: [1, 1] };
  }
  const [kh, kw] = layer.kernelSize;
  return { din: kh * kw * layer.inChannels, dout: layer.outChannels, cin: layer.inChannels, k: [kh, kw] };
}

/**
 * Plan the replacement of one dense layer by a family at sparsity s. Sparse Wide is a whole-network
 * transform (both sides of every hidden layer widen), so its per-layer plan widens both Din and Dout
 * by k_sw exactly; whole networks use {@link sparseWideWidth} instead.
 */
export function planLayer(layer: DenseLayerSpec, family: Family, s: number, options: PlanOptions = {}): LayerPlan {
  assertSparsity(s);
  const { din, dout, cin, k } = dims(layer);
  const density = 1 - s;
  const kk = k[0] * k[1];
  switch (family) {
    case 'dense':
      return { family, sparsity: 0, tensors: [{ role: 'dense-weight', din, dout, kernelSize: k, masked: false, density: 1 }] };
    case 'sparse-wide': {
      const f = sparseWideFactor(s);
      const wideCin = Math.round(cin * f);
      const wideOut = Math.round(dout * f);
      return {
        family,
        sparsity: s,
        widthFactor: f,
        tensors: [{ role: 'wide-weight', din: kk * wideCin, dout: wideOut, kernelSize: k, masked: true, density }],
      };
    }
    case 'sparse-parallel': {
      const branches = sparseParallelBranches(s);
      return {
        family,
        sparsity: s,
        branches,
        tensors: Array.from({ length: branches }, () => ({
          role: 'parallel-branch' as const,
          din,
          dout,
          kernelSize: k,
          masked: true,
          density,
        })),
      };
    }
    case 'sparse-factorized': {
      const innerWidth = sparseFactorizedWidth(din, dout, s, { uOnly: options.factorizedUOnly });
      return {
        family,
        sparsity: s,
        innerWidth,
        tensors: [
          { role: 'factorized-u', din, dout: innerWidth, kernelSize: k, masked: true, density },
          {
            role: 'factorized-v',
            din: innerWidth,
            dout,
            kernelSize: [1, 1],
            masked: !options.factorizedUOnly,
            density: options.factorizedUOnly ? 1 : density,
          },
        ],
      };
    }
    case 'sparse-doped': {
      const rank = sparseDopedRank(din, dout, s);
      const lowRankMasked = options.dopedMaskLowRank === true;
      const lowRankDensity = lowRankMasked ? density : 1;
      const tensors: PlannedTensor[] = [{ role: 'doped-sparse', din, dout, kernelSize: k, masked: true, density }];
      if (rank > 0) {
        tensors.push(
          { role: 'doped-u', din, dout: rank, kernelSize: k, masked: lowRankMasked, density: lowRankDensity },
          { role: 'doped-v', din: rank, dout, kernelSize: [1, 1], masked: lowRankMasked, density: lowRankDensity },
        );
      }
      return { family, sparsity: s, rank, tensors };
    }
  }
}

/** Multiply-accumulates per output position of a planned layer at its target densities (paper view). */
export function planMacs(plan: LayerPlan): number {
  return plan.tensors.reduce((sum, t) => sum + t.din * t.dout * t.density, 0);
}

/** Multiply-accumulates per output position of the dense layer (paper view: Din·Dout). */
export function denseMacs(layer: DenseLayerSpec): number {
  const { din, dout } = dims(layer);
  return din * dout;
}

/** Number of weights a planned layer holds (masked or not), without biases. */
export function planParams(plan: LayerPlan): number {
  return plan.tensors.reduce((sum, t) => sum + t.din * t.dout, 0);
}

/**
 * The bound on |transformed − dense| MACs that each family's rounding allows, per output position
 * (stated so tests can assert it): SP rounds the branch count, SF rounds the width up by < 1,
 * SD rounds the rank down by < 1, SW rounds each widened side to an integer.
 */
export function isoFlopRoundingBound(layer: DenseLayerSpec, family: Family, s: number): number {
  const { din, dout, k } = dims(layer);
  const density = 1 - s;
  const kk = k[0] * k[1];
  switch (family) {
    case 'dense':
      return 0;
    case 'sparse-parallel':
      return Math.abs(sparseParallelBranches(s) * density - 1) * din * dout;
    case 'sparse-factorized':
      return density * (din + dout) + 1e-9 * din * dout;
    case 'sparse-doped':
      return din + dout + 1e-9 * din * dout;
    case 'sparse-wide': {
      const f = sparseWideFactor(s);
      const cin = din / kk;
      // each side moves by at most 0.5 channel after rounding
      return density * (kk * (0.5 * dout * f + 0.5 * cin * f + 0.25)) + 1e-9 * din * dout;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sparse Wide whole-network FLOP-budget search (docs/flops.md#sparse-wide-budget).
// ---------------------------------------------------------------------------------------------

/**
 * Deterministic form of the official binary search: the widened network's FLOPs split into a part
 * that never shrinks (stem, head, BN, pooling: `denseFlops`) and a part that scales with the mask
 * density (`maskableFlops`, counted dense). Returns the sparsity s* with
 *   denseFlops + (1 − s*)·maskableFlops = budget,
 * which the search approximates to ±0.1 %. Throws if the dense part alone exceeds the budget.
 */
export function solveSparseWideSparsity(args: { denseFlops: number; maskableFlops: number; budget: number }): number {
  const { denseFlops, maskableFlops, budget } = args;
  if (!(maskableFlops > 0)) throw new RangeError('maskableFlops must be > 0');
  const density = (budget - denseFlops) / maskableFlops;
  if (density <= 0) {
    throw new RangeError(
      `the dense part of the widened model (${denseFlops} FLOPs) already exceeds the budget (${budget}); lower the sparsity`,
    );
  }
  return Math.min(Math.max(1 - density, 0), 0.9999);
}
