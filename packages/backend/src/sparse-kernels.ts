// Typed access to the native addon's unstructured-sparse kernels (native/sparse_*.cc): masked
// convolutions and linears computed at the mask's non-zeros only. Tensors are Float32Arrays used in
// place; the dense weight and the 0/1 mask stay the source of truth (a plan is rebuilt from the mask
// when it changes; values are gathered from the dense weight at every call).
import { loadNativeAddon } from './native.js';

/**
 * Physical layout of an activation: tf.js' `nhwc`, or the kernels' own `chwn` ([C, H, W, N]: channel
 * major, the batch innermost). A `chwn` tensor skips the transposes the kernels otherwise make.
 */
export type SparseLayout = 'nhwc' | 'chwn';

/** A 2-D convolution without dilation, in tf.js terms (x [n, h, w, c], filter [kh, kw, c, o]). */
export interface SparseConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  o: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/** Opaque handle of a native SparseConv. */
export interface SparseConvHandle {
  readonly __sparseConv: unique symbol;
}

/** The addon's sparse entry points (see native/sparse_napi.cc). */
export interface SparseKernelsAddon {
  sparseConvCreate(
    n: number, h: number, w: number, c: number, o: number, kh: number, kw: number,
    strideH: number, strideW: number, padTop: number, padLeft: number, outH: number, outW: number,
    mask: Float32Array,
  ): SparseConvHandle;
  sparseConvSetMask(plan: SparseConvHandle, mask: Float32Array): void;
  sparseConvGather(plan: SparseConvHandle, w: Float32Array): void;
  /** w null: the values gathered last. True when x was copied into the staging buffer all plans share (see forwardStaged). */
  sparseConvForward(plan: SparseConvHandle, w: Float32Array | null, x: Float32Array, xLayout: SparseLayout, y: Float32Array, yLayout: SparseLayout): boolean;
  /** Forward on the input the last sparseConvForward staged (absent in addons built before it). */
  sparseConvForwardStaged?(plan: SparseConvHandle, w: Float32Array | null, y: Float32Array, yLayout: SparseLayout): void;
  sparseConvBackwardData(plan: SparseConvHandle, w: Float32Array | null, dy: Float32Array, dyLayout: SparseLayout, dx: Float32Array, dxLayout: SparseLayout): void;
  sparseConvBackwardWeights(plan: SparseConvHandle, x: Float32Array, xLayout: SparseLayout, dy: Float32Array, dyLayout: SparseLayout, dw: Float32Array): void;
  sparseConvBackward(
    plan: SparseConvHandle, w: Float32Array | null, x: Float32Array, xLayout: SparseLayout, dy: Float32Array, dyLayout: SparseLayout,
    dx: Float32Array, dxLayout: SparseLayout, dw: Float32Array,
  ): void;
  sparseConvNnz(plan: SparseConvHandle): number;
  /** Frees the plan now (otherwise when its handle is collected); later calls with it throw. */
  sparseConvRelease(plan: SparseConvHandle): void;
  sparseConvDescribe(plan: SparseConvHandle): Int32Array[];
  sparseIsa(): SparseIsa;
  sparseSetIsa(isa: SparseIsa | 'auto'): void;
  /** Bytes from the previous 64-byte boundary to a typed array's data (0: CHWN inputs of 1×1 convs are read in place). */
  sparseAlignment(a: ArrayBufferView): number;
  sparseTranspose(n: number, h: number, w: number, c: number, src: Float32Array, dst: Float32Array, toChwn: boolean): void;
  /** Blocking of plans built afterwards (see {@link SparseTuning}). */
  sparseSetTuning(blockKb: number, partialsKb: number, tileVectors: number): void;
  sparseTuning(): [number, number, number];
}

/**
 * How the sweeps block their work: a tile is a run of output positions whose sums stay in registers
 * (`tileVectors`, 0 = the ISA's most); a channel block is the input channels whose slice of the input
 * one tile reads while it stays in cache (`blockKb`, default 160); a row block is the rows whose partial
 * sums wait in L2 between channel blocks (`partialsKb`, default 256).
 */
export interface SparseTuning {
  blockKb: number;
  partialsKb: number;
  tileVectors: number;
}

export function sparseTuning(k: SparseKernelsAddon): SparseTuning {
  const [blockKb, partialsKb, tileVectors] = k.sparseTuning();
  return { blockKb, partialsKb, tileVectors };
}

export function setSparseTuning(k: SparseKernelsAddon, t: Partial<SparseTuning>): void {
  const cur = sparseTuning(k);
  k.sparseSetTuning(t.blockKb ?? cur.blockKb, t.partialsKb ?? cur.partialsKb, t.tileVectors ?? cur.tileVectors);
}

export type SparseIsa = 'avx512' | 'avx2' | 'scalar';

/** The sparse kernels of the built addon, or undefined (with the reason) when absent. */
export function loadSparseKernels(): { kernels: SparseKernelsAddon } | { kernels: undefined; why: string } {
  const status = loadNativeAddon();
  if (!status.loaded) return { kernels: undefined, why: status.why };
  const addon = status.addon as unknown as Partial<SparseKernelsAddon>;
  if (typeof addon.sparseConvCreate !== 'function') return { kernels: undefined, why: 'the native addon was built without the sparse kernels (rebuild it)' };
  return { kernels: addon as SparseKernelsAddon };
}

/**
 * A Float32Array of n floats whose data starts on a 64-byte boundary (allocate activations so: `chwn`
 * inputs of 1×1 convs and linears are then read in place, and no vector load splits a cache line).
 */
export function alignedFloat32Array(k: SparseKernelsAddon, n: number): Float32Array {
  const buf = new Float32Array(n + 16);
  const skip = ((64 - k.sparseAlignment(buf)) % 64) / 4;
  return buf.subarray(skip, skip + n);
}

/**
 * The geometry tf.js uses for conv2d(x, filter, strides, pad): 'same' pads ceil(out)·stride + k − in
 * in total, the smaller half on top/left; 'valid' pads nothing; a number pads that much on every side.
 */
export function sparseConvGeometry(
  x: readonly [number, number, number, number],
  filter: readonly [number, number, number, number],
  strides: number | readonly [number, number],
  pad: 'same' | 'valid' | number,
): SparseConvGeometry {
  const [n, h, w, c] = x;
  const [kh, kw, fc, o] = filter;
  if (fc !== c) throw new Error(`sparseConvGeometry: filter has ${fc} input channels, x has ${c}`);
  const [strideH, strideW] = typeof strides === 'number' ? [strides, strides] : strides;
  const axis = (size: number, k: number, s: number): [number, number] => {
    if (pad === 'same') {
      const out = Math.ceil(size / s);
      return [out, Math.floor(Math.max((out - 1) * s + k - size, 0) / 2)];
    }
    const p = pad === 'valid' ? 0 : pad;
    return [Math.floor((size + 2 * p - k) / s) + 1, p];
  };
  const [outH, padTop] = axis(h, kh, strideH);
  const [outW, padLeft] = axis(w, kw, strideW);
  return { n, h, w, c, o, kh, kw, strideH, strideW, padTop, padLeft, outH, outW };
}

/** The geometry of a linear x [tokens, inFeatures] · W [inFeatures, outFeatures]: a 1×1 conv over tokens. */
export function sparseLinearGeometry(tokens: number, inFeatures: number, outFeatures: number): SparseConvGeometry {
  return { n: tokens, h: 1, w: 1, c: inFeatures, o: outFeatures, kh: 1, kw: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, outH: 1, outW: 1 };
}

/**
 * A masked convolution (or linear) on the sparse kernels. `w` is always the dense filter [kh, kw, c, o]
 * (for a linear [in, out]); entries off the mask are ignored. Each call takes the non-zeros' values from
 * `w`; pass `null` to reuse the values taken last (a training step reads the dense weight once, in the
 * forward: at 90 % sparsity it is 10× the data the kernels need).
 */
export class SparseConv {
  private readonly plan: SparseConvHandle;

  constructor(
    private readonly k: SparseKernelsAddon,
    readonly geometry: SparseConvGeometry,
    mask: Float32Array,
  ) {
    const g = geometry;
    this.plan = k.sparseConvCreate(g.n, g.h, g.w, g.c, g.o, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.outH, g.outW, mask);
  }

  /** Rebuilds the structures after a mask update (RigL, pruning). */
  setMask(mask: Float32Array): void {
    this.k.sparseConvSetMask(this.plan, mask);
  }

  /** Takes the non-zeros' values from the dense weight for every direction. */
  gather(w: Float32Array): void {
    this.k.sparseConvGather(this.plan, w);
  }

  get nnz(): number {
    return this.k.sparseConvNnz(this.plan);
  }

  /**
   * Frees the native structures now. The garbage collector would free them only when it collects this
   * object, and it does not see their size: plans dropped at every mask update would pile up.
   */
  release(): void {
    this.k.sparseConvRelease(this.plan);
  }

  /**
   * y = conv(x, w ⊙ mask). Returns true when x was copied into the staging buffer that every plan shares
   * (not read in place): until the next call that stages an input, a plan of the same input geometry can
   * run {@link forwardStaged} on it.
   */
  forward(w: Float32Array | null, x: Float32Array, y: Float32Array, layouts: { x?: SparseLayout; y?: SparseLayout } = {}): boolean {
    return this.k.sparseConvForward(this.plan, w, x, layouts.x ?? 'nhwc', y, layouts.y ?? 'nhwc') === true;
  }

  /** Whether the addon can run {@link forwardStaged}. */
  get canForwardStaged(): boolean {
    return typeof this.k.sparseConvForwardStaged === 'function';
  }

  /**
   * y = conv(x, w ⊙ mask) for the x the last {@link forward} staged (which returned true), without staging
   * it again: Sparse Parallel's branches read one input. Throws when no input of this geometry is staged;
   * the caller must know it is the same x (the kernels see only its staging).
   */
  forwardStaged(w: Float32Array | null, y: Float32Array, layouts: { y?: SparseLayout } = {}): void {
    if (!this.k.sparseConvForwardStaged) throw new Error('SparseConv.forwardStaged: the addon was built without it (rebuild it)');
    this.k.sparseConvForwardStaged(this.plan, w, y, layouts.y ?? 'nhwc');
  }

  backwardData(w: Float32Array | null, dy: Float32Array, dx: Float32Array, layouts: { dy?: SparseLayout; dx?: SparseLayout } = {}): void {
    this.k.sparseConvBackwardData(this.plan, w, dy, layouts.dy ?? 'nhwc', dx, layouts.dx ?? 'nhwc');
  }

  /** dw = dense dW ⊙ mask (dense [kh, kw, c, o], zeros off the mask), computed at the non-zeros only. */
  backwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, layouts: { x?: SparseLayout; dy?: SparseLayout } = {}): void {
    this.k.sparseConvBackwardWeights(this.plan, x, layouts.x ?? 'nhwc', dy, layouts.dy ?? 'nhwc', dw);
  }

  /** dx and dw in one sweep (each dy load feeds both products). */
  backward(
    w: Float32Array | null, x: Float32Array, dy: Float32Array, dx: Float32Array, dw: Float32Array,
    layouts: { x?: SparseLayout; dy?: SparseLayout; dx?: SparseLayout } = {},
  ): void {
    this.k.sparseConvBackward(this.plan, w, x, layouts.x ?? 'nhwc', dy, layouts.dy ?? 'nhwc', dx, layouts.dx ?? 'nhwc', dw);
  }

  /** The structures (per pass: row starts, input offsets, dense-weight indices), for tests. */
  describe(): Int32Array[] {
    return this.k.sparseConvDescribe(this.plan);
  }
}
