// Which kernels ran native and which fell back: every kernel call on the `native` backend is counted
// here by route. `sift doctor` prints the static coverage; results files store `snapshot()` (through
// BackendInfo.provenance, whose toJSON takes it when the file is written).

/**
 * - `native`: a native (addon) kernel ran;
 * - `shared`: a kernel that only relabels data (Reshape, Identity, same-dtype Cast...) and shares it;
 * - `fallback`: tfjs-backend-cpu's JS kernel ran on the same TypedArrays (no native kernel, or the native
 *   one declined this input: see the reasons).
 */
export type KernelRoute = 'native' | 'shared' | 'fallback';

interface Count {
  native: number;
  shared: number;
  fallback: number;
  reasons: Set<string>;
  ms: number;
}

export interface KernelProvenanceSnapshot {
  /** Kernels that ran natively, at least once, with their call counts. */
  native: Record<string, number>;
  /** Kernels that only shared data. */
  shared: Record<string, number>;
  /** Kernels that ran on tfjs-backend-cpu's JS at least once: calls and why. */
  fallback: Record<string, { calls: number; reasons: string[] }>;
}

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
  route: KernelRoute | 'mixed';
}

export class KernelProvenance {
  private readonly counts = new Map<string, Count>();
  /**
   * When set, each call's time is added to its kernel (the benchmark's per-kernel profile): `wall` clock,
   * or the process's `cpu` time (all threads; on a loaded machine it counts work, not waiting).
   */
  timing: false | 'wall' | 'cpu' = false;

  private count(kernel: string): Count {
    let c = this.counts.get(kernel);
    if (!c) {
      c = { native: 0, shared: 0, fallback: 0, reasons: new Set(), ms: 0 };
      this.counts.set(kernel, c);
    }
    return c;
  }

  record(kernel: string, route: KernelRoute, reason?: string): void {
    const c = this.count(kernel);
    c[route]++;
    if (reason !== undefined && c.reasons.size < 8) c.reasons.add(reason);
  }

  addTime(kernel: string, ms: number): void {
    this.count(kernel).ms += ms;
  }

  reset(): void {
    this.counts.clear();
  }

  snapshot(): KernelProvenanceSnapshot {
    const out: KernelProvenanceSnapshot = { native: {}, shared: {}, fallback: {} };
    for (const [kernel, c] of [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (c.native > 0) out.native[kernel] = c.native;
      if (c.shared > 0) out.shared[kernel] = c.shared;
      if (c.fallback > 0) out.fallback[kernel] = { calls: c.fallback, reasons: [...c.reasons] };
    }
    return out;
  }

  /** Per-kernel wall time (only while `timing` was on), slowest first. */
  times(): KernelTime[] {
    return [...this.counts.entries()]
      .map(([kernel, c]) => {
        const routes = (['native', 'shared', 'fallback'] as const).filter((r) => c[r] > 0);
        return { kernel, ms: c.ms, calls: c.native + c.shared + c.fallback, route: routes.length === 1 ? routes[0]! : ('mixed' as const) };
      })
      .sort((a, b) => b.ms - a.ms);
  }

  toJSON(): KernelProvenanceSnapshot {
    return this.snapshot();
  }
}

/** One line: "native: Conv2D ×20, ... | fell back: Foo ×3 (reason)". */
export function describeProvenance(s: KernelProvenanceSnapshot): string {
  const list = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  const fallback = Object.entries(s.fallback).map(([k, f]) => `${k} ×${f.calls} (${f.reasons.join('; ')})`).join(', ') || 'none';
  return `native: ${list(s.native)} | shared data: ${list(s.shared)} | fell back to JS: ${fallback}`;
}
