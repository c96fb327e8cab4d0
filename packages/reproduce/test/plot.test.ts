import { describe, expect, it } from 'vitest';
import { accuracyPlotSvg } from '../src/index.js';

describe('accuracyPlotSvg', () => {
  it('renders an SVG with each series, the axes and the dense line', async () => {
    const svg = await accuracyPlotSvg(
      [
        { series: 'Sparse Wide (rigl)', sparsity: 0.5, accuracy: 78.1, std: 0.2 },
        { series: 'Sparse Wide (rigl)', sparsity: 0.75, accuracy: 78.9, std: 0.3 },
      ],
      77.0,
      'a title',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['Sparse Wide (rigl)', 'dense 77.00%', 'a title', 'sparsity s', 'test accuracy (%)']) expect(svg).toContain(text);
  });
});
