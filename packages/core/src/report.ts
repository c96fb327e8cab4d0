/**
 * What sparsity a model really has (docs/deviations.md#pitfall-bernoulli: a Bernoulli mask only approximates its target, and
 * static training keeps that count for the whole run). Counts come from the masks, the support that
 * training may use; `weightNonzeros` also counts on-positions whose weight is 0 right now.
 */
import type { TensorRole } from './isoflop.js';
import type { MaskedParam } from './masked-param.js';

export interface TensorSparsityRow {
  name: string;
  layerName: string;
  role: TensorRole;
  shape: number[];
  numel: number;
  /** Ones in the mask. */
  nonzeros: number;
  /** Nonzero weights (≤ nonzeros when the masks are applied). */
  weightNonzeros: number;
  targetSparsity: number;
  realisedSparsity: number;
}

export interface SparsityReport {
  rows: TensorSparsityRow[];
  /** Over all masked tensors together. */
  numel: number;
  nonzeros: number;
  /** Σ target density·numel / Σ numel, as sparsity. */
  targetSparsity: number;
  realisedSparsity: number;
}

export interface RealisedDensity {
  overall: number;
  perTensor: { name: string; density: number }[];
}

function countNonzero(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) n++;
  return n;
}

export function sparsityReport(params: readonly MaskedParam[]): SparsityReport {
  const rows = params.map((p): TensorSparsityRow => {
    const numel = p.mask.size;
    const nonzeros = countNonzero(p.mask.dataSync());
    return {
      name: p.name,
      layerName: p.layerName,
      role: p.role,
      shape: [...p.weight.shape],
      numel,
      nonzeros,
      weightNonzeros: countNonzero(p.weight.dataSync()),
      targetSparsity: p.sparsity,
      realisedSparsity: 1 - nonzeros / numel,
    };
  });
  const numel = rows.reduce((a, r) => a + r.numel, 0);
  const nonzeros = rows.reduce((a, r) => a + r.nonzeros, 0);
  const targetOnes = rows.reduce((a, r) => a + (1 - r.targetSparsity) * r.numel, 0);
  return {
    rows,
    numel,
    nonzeros,
    targetSparsity: numel === 0 ? 0 : 1 - targetOnes / numel,
    realisedSparsity: numel === 0 ? 0 : 1 - nonzeros / numel,
  };
}

/** Fraction of mask ones, overall (Σ ones / Σ numel) and per tensor. */
export function realisedDensity(params: readonly MaskedParam[]): RealisedDensity {
  const report = sparsityReport(params);
  return {
    overall: report.numel === 0 ? 1 : report.nonzeros / report.numel,
    perTensor: report.rows.map((r) => ({ name: r.name, density: r.nonzeros / r.numel })),
  };
}

/** A fixed-width text table of a report, one row per tensor plus a total. */
export function formatSparsityReport(report: SparsityReport): string {
  const header = ['tensor', 'role', 'shape', 'numel', 'nonzeros', 'target s', 'realised s'];
  const body = report.rows.map((r) => [
    r.name,
    r.role,
    `[${r.shape.join('×')}]`,
    String(r.numel),
    String(r.nonzeros),
    r.targetSparsity.toFixed(4),
    r.realisedSparsity.toFixed(4),
  ]);
  body.push(['total', '', '', String(report.numel), String(report.nonzeros), report.targetSparsity.toFixed(4), report.realisedSparsity.toFixed(4)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
