/**
 * Accuracy against sparsity, dense as a horizontal line: a Vega-Lite spec compiled to Vega and rendered
 * to SVG headless (no browser, no canvas needed for SVG). Every reproduction's table that sweeps sparsity
 * writes one.
 *
 * Rows at one sparsity often score within a few tenths of each other, so plotted at the same x their
 * markers and error bars would cover one another. Each series is therefore dodged: sparsities are
 * evenly spaced groups on the x axis and every series has its own fixed offset inside a group, so no two
 * points ever share an x position. Colour says the family, marker shape the sparse-training method.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One row's point: its family and method label the series; accuracy and its std in percent. */
export interface PlotPoint {
  family: string;
  method: string;
  sparsity: number;
  accuracy: number;
  /** Sample std over seeds; null for one seed (no error bar drawn). */
  std: number | null;
}

export interface PlotOptions {
  title: string;
  /** A second title line, e.g. how many seeds the bars are over. */
  subtitle?: string;
  /** The y axis's title (default: test accuracy in percent); other measures (a time ratio) plot the same way. */
  yTitle?: string;
  /** The reference line's label (default: `dense 85.51%`). */
  referenceLabel?: (value: number) => string;
  /** The marker-shape legend's title, what `method` is (default: sparse training). */
  methodTitle?: string;
}

/** Share of a sparsity group's width the dodged series spread over. */
const GROUP_SPREAD = 0.7;
/** Marker area in px² (vega-lite's default is 30): about 9 px across. */
export const MARKER_SIZE = 64;
/** Horizontal room per point, so neighbouring markers (≈ 9 px) keep a gap. */
const PX_PER_POINT = 22;

export async function accuracyPlotSvg(points: readonly PlotPoint[], denseAccuracy: number, options: PlotOptions): Promise<string> {
  const sparsities = [...new Set(points.map((p) => p.sparsity))].sort((a, b) => a - b);
  const seriesKey = (p: PlotPoint): string => `${p.family} (${p.method})`;
  // Families and methods in the order the rows give them; a family's methods side by side.
  const familyOrder = [...new Set(points.map((p) => p.family))];
  const methodOrder = [...new Set(points.map((p) => p.method))];
  const rank = (p: PlotPoint): number => familyOrder.indexOf(p.family) * methodOrder.length + methodOrder.indexOf(p.method);
  const series = [...new Set([...points].sort((a, b) => rank(a) - rank(b)).map(seriesKey))];
  const slot = GROUP_SPREAD / series.length;
  const data = points.map((p) => {
    const offset = (series.indexOf(seriesKey(p)) - (series.length - 1) / 2) * slot;
    const x = sparsities.indexOf(p.sparsity) + offset;
    return { ...p, series: seriesKey(p), x, ...(p.std === null ? {} : { low: p.accuracy - p.std, high: p.accuracy + p.std }) };
  });
  const labels = `[${sparsities.map((s) => `'${s}'`).join(', ')}]`;
  const width = Math.max(520, Math.ceil((sparsities.length * series.length * PX_PER_POINT) / GROUP_SPREAD));
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: 'sparsity s',
    scale: { domain: [-0.5, sparsities.length - 0.5], nice: false, zero: false },
    axis: { values: sparsities.map((_, i) => i), labelExpr: `${labels}[datum.value]`, grid: false },
  };
  const yTitle = options.yTitle ?? 'test accuracy (%)';
  const y = { field: 'accuracy', type: 'quantitative' as const, title: yTitle, scale: { zero: false } };
  const color = { field: 'family', type: 'nominal' as const, title: 'family', sort: familyOrder, legend: { labelLimit: 400, symbolOpacity: 1 } };
  const denseLabel = [{ accuracy: denseAccuracy, label: options.referenceLabel?.(denseAccuracy) ?? `dense ${denseAccuracy.toFixed(2)}%` }];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.subtitle === undefined ? options.title : { text: options.title, subtitle: options.subtitle },
    width,
    height: 320,
    layer: [
      {
        data: { values: data },
        mark: { type: 'line', strokeWidth: 1, opacity: 0.6 },
        encoding: { x, y, color, detail: { field: 'series', type: 'nominal' } },
      },
      {
        data: { values: data.filter((d) => 'low' in d) },
        mark: { type: 'rule', strokeWidth: 1.5 },
        // same title as the point layer, or vega-lite joins the two into "test accuracy (%), low"
        encoding: { x, y: { field: 'low', type: 'quantitative', title: yTitle }, y2: { field: 'high' }, color },
      },
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: MARKER_SIZE, opacity: 1 },
        encoding: {
          x,
          y,
          color,
          shape: { field: 'method', type: 'nominal', title: options.methodTitle ?? 'sparse training', sort: methodOrder, legend: { labelLimit: 400 } },
          tooltip: [{ field: 'series' }, { field: 'sparsity' }, { field: 'accuracy', format: '.2f' }],
        },
      },
      {
        data: { values: denseLabel },
        mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
        encoding: { y: { field: 'accuracy', type: 'quantitative' } },
      },
      {
        // right of the plot area, where no point can be
        data: { values: denseLabel },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 6, x: width },
        encoding: { y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
    config: { legend: { orient: 'bottom', direction: 'horizontal' } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
