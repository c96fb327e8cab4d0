import { describe, expect, it } from 'vitest';
import { accuracyPlotSvg, MARKER_SIZE, type PlotPoint } from '../src/index.js';

/** Centres of the plotted markers (vega's SVG: `<path transform="translate(x,y)">` in the point mark's group). */
function markerCentres(svg: string): { x: number; y: number }[] {
  const groups = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!);
  expect(groups.length, 'one point mark').toBe(1);
  return [...groups[0]!.matchAll(/transform="translate\(([-\d.]+),([-\d.]+)\)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

const families = ['Sparse Wide', 'Sparse Parallel', 'Sparse Factorized', 'Sparse Doped'];

describe('accuracyPlotSvg', () => {
  it('renders an SVG with the title, subtitle, axes, legends, sparsity labels and the dense line', async () => {
    const svg = await accuracyPlotSvg(
      [
        { family: 'Sparse Wide', method: 'RigL', sparsity: 0.5, accuracy: 78.1, std: 0.2 },
        { family: 'Sparse Wide', method: 'RigL', sparsity: 0.75, accuracy: 78.9, std: null },
      ],
      77.0,
      { title: 'a title', subtitle: 'a subtitle' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['a title', 'a subtitle', 'Sparse Wide', 'RigL', 'dense 77.00%', 'sparsity s', '>0.5<', '>0.75<', 'test accuracy (%)', 'family', 'sparse training']) {
      expect(svg).toContain(text);
    }
  });

  it('never draws two markers over each other, even when every row scores the same', async () => {
    // The worst case: 4 families × RigL plus Sparse Wide Static and SET (the Fashion-MNIST and CIFAR grids), at
    // three sparsities, all at exactly the same accuracy.
    const points: PlotPoint[] = [];
    for (const sparsity of [0.5, 0.75, 0.9]) {
      for (const family of families) points.push({ family, method: 'RigL', sparsity, accuracy: 85, std: 0.3 });
      for (const method of ['Static', 'SET']) points.push({ family: 'Sparse Wide', method, sparsity, accuracy: 85, std: 0.3 });
    }
    const centres = markerCentres(await accuracyPlotSvg(points, 85, { title: 't' }));
    expect(centres).toHaveLength(points.length);
    const diameter = 2 * Math.sqrt(MARKER_SIZE / Math.PI); // a circle of MARKER_SIZE px²; squares and triangles are no wider
    for (let i = 0; i < centres.length; i++) {
      for (let j = i + 1; j < centres.length; j++) {
        const gap = Math.hypot(centres[i]!.x - centres[j]!.x, centres[i]!.y - centres[j]!.y);
        expect(gap, `markers ${i} and ${j}`).toBeGreaterThan(diameter);
      }
    }
    // Grouped by sparsity: the 6 markers of s = 0.5 all lie left of every marker of s = 0.75.
    const xs = centres.map((c) => c.x);
    const byGroup = [xs.slice(0, 6), xs.slice(6, 12), xs.slice(12)];
    expect(Math.max(...byGroup[0]!)).toBeLessThan(Math.min(...byGroup[1]!));
    expect(Math.max(...byGroup[1]!)).toBeLessThan(Math.min(...byGroup[2]!));
  });

  it('draws an error bar only where a std was measured', async () => {
    const points: PlotPoint[] = [
      { family: 'Sparse Wide', method: 'RigL', sparsity: 0.5, accuracy: 80, std: 1 },
      { family: 'Sparse Doped', method: 'RigL', sparsity: 0.5, accuracy: 81, std: null },
    ];
    const svg = await accuracyPlotSvg(points, 80, { title: 't' });
    const rules = [...svg.matchAll(/<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map((m) => (m[1]!.match(/<line/g) ?? []).length);
    expect(rules).toEqual([1, 1]); // one error bar; one dense line
  });
});
