/**
 * Accuracy against sparsity per family, dense as a horizontal line: a Vega-Lite spec compiled to Vega
 * and rendered to SVG headless (no browser, no canvas needed for SVG). Every reproduction's table that
 * sweeps sparsity writes one.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One series' point: accuracy and its std in percent. */
export interface PlotPoint {
  series: string;
  sparsity: number;
  accuracy: number;
  std: number;
}

export async function accuracyPlotSvg(points: PlotPoint[], denseAccuracy: number, title: string): Promise<string> {
  const data = points.map((p) => ({ ...p, low: p.accuracy - p.std, high: p.accuracy + p.std }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 320,
    layer: [
      {
        data: { values: data },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'sparsity', type: 'quantitative', title: 'sparsity s', scale: { domain: [0.45, 0.95] } },
          y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'family (method)', legend: { labelLimit: 400 } },
        },
      },
      {
        data: { values: data },
        mark: { type: 'errorbar' },
        encoding: {
          x: { field: 'sparsity', type: 'quantitative' },
          // same title as the line layer, or vega-lite joins the two into "test accuracy (%), low"
          y: { field: 'low', type: 'quantitative', title: 'test accuracy (%)' },
          y2: { field: 'high' },
          color: { field: 'series', type: 'nominal' },
        },
      },
      {
        data: { values: [{ accuracy: denseAccuracy, label: `dense ${denseAccuracy.toFixed(2)}%` }] },
        mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
        encoding: { y: { field: 'accuracy', type: 'quantitative' } },
      },
      {
        data: { values: [{ accuracy: denseAccuracy, label: `dense ${denseAccuracy.toFixed(2)}%` }] },
        mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0 },
        encoding: { y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
