// The report's charts: Vega-Lite specs compiled to Vega and drawn to SVG in Node (no canvas, no browser), so the
// page carries finished pictures and needs nothing at view time.
import { basename } from 'node:path';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ERROR_HISTOGRAM } from '../metrics.js';
import { layeredExecutor, type ValidateReport } from '../api/validate.js';

export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly svg: string;
}

type Row = Record<string, string | number | null>;
/** A Vega-Lite spec without its data (render adds the rows), kept a union so each kind of spec is checked. */
type SpecWithoutData = TopLevelSpec extends infer T ? (T extends unknown ? Omit<T, 'data'> : never) : never;

async function render(id: string, title: string, spec: SpecWithoutData, values: Row[]): Promise<Chart> {
  const full = { ...spec, data: { values }, config: { font: 'sans-serif', view: { stroke: null }, legend: { labelLimit: 400 }, axis: { labelLimit: 240 } } } as TopLevelSpec;
  const view = new View(parse(compile(full).spec), { renderer: 'none' });
  try {
    return { id, title, svg: await view.toSVG() };
  } finally {
    view.finalize();
  }
}

/** A finite number for a chart (an SQNR of ∞, bit-exact, cannot be plotted; null leaves a gap). */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Per-layer SQNR and cosine against float, one line per executor, layers in graph order. */
function layerCharts(r: ValidateReport, id: string): Promise<Chart>[] {
  const order = r.executors[0]?.layers.map((l) => l.value) ?? [];
  const rows = r.executors.flatMap((e) => e.layers.map((l) => ({ executor: e.executor, layer: l.value, sqnrDb: finite(l.sqnrDb), cosine: finite(l.cosine) })));
  const line = (field: string, title: string) => ({
    width: Math.max(300, 18 * order.length),
    height: 220,
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal' as const, sort: order, title: 'layer (graph order)' },
      y: { field, type: 'quantitative' as const, title, scale: { zero: false } },
      color: { field: 'executor', type: 'nominal' as const },
    },
  });
  return [render(`${id}-sqnr`, 'Per-layer SQNR against float (dB)', line('sqnrDb', 'SQNR dB'), rows), render(`${id}-cosine`, 'Per-layer cosine similarity against float', line('cosine', 'cosine'), rows)];
}

/** How many of the worst layers get an error histogram. */
export const WORST_LAYERS = 4;

/** The layers with the lowest SQNR, worst first, of the executor with per-layer figures. */
export function worstLayers(r: ValidateReport): string[] {
  const layers = (layeredExecutor(r)?.layers ?? []).filter((l) => l.errorHistogram.length > 0).sort((a, b) => a.sqnrDb - b.sqnrDb);
  return layers.slice(0, WORST_LAYERS).map((l) => l.value);
}

function histogramChart(r: ValidateReport, id: string): Promise<Chart> {
  const { rangeLsb, bins } = ERROR_HISTOGRAM;
  const width = (2 * rangeLsb) / bins;
  const first = layeredExecutor(r)!;
  const rows = worstLayers(r).flatMap((v) =>
    first.layers.find((l) => l.value === v)!.errorHistogram.map((count, b) => ({ layer: v, from: -rangeLsb + b * width, to: -rangeLsb + (b + 1) * width, count })),
  );
  return render(`${id}-histograms`, `Error histograms of the ${WORST_LAYERS} worst layers (${first.executor} − float, in steps of the layer's grid)`, {
    facet: { field: 'layer', type: 'nominal', sort: worstLayers(r), title: null },
    columns: 2,
    spec: {
      width: 260,
      height: 140,
      mark: 'rect',
      encoding: {
        x: { field: 'from', type: 'quantitative', title: 'error (LSB; ends hold everything beyond)' },
        x2: { field: 'to' },
        y: { field: 'count', type: 'quantitative', title: 'elements' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  }, rows);
}

/** A square heat map of counts with the counts written in the cells. */
function heatMap(id: string, title: string, rows: Row[], x: string, y: string, order: string[]): Promise<Chart> {
  const axis = (field: string, t: string) => ({ field, type: 'ordinal' as const, sort: order, title: t });
  return render(id, title, {
    width: Math.max(160, 28 * order.length),
    height: Math.max(160, 28 * order.length),
    encoding: { x: axis('col', x), y: axis('row', y) },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
    ],
  }, rows);
}

function confusionChart(r: ValidateReport, id: string): Promise<Chart> {
  const first = r.executors[0];
  const classes = first.confusion.map((_, c) => String(c));
  const rows = first.confusion.flatMap((row, f) => row.map((count, c) => ({ row: String(f), col: String(c), count })));
  return heatMap(`${id}-confusion`, `Top-1 class: float (rows) against ${first.executor} (columns)`, rows, `${first.executor} top-1`, 'float top-1', classes);
}

function mismatchChart(r: ValidateReport, id: string): Promise<Chart> {
  const names = Object.keys(r.mismatches);
  const rows = names.flatMap((a) => names.map((b) => ({ row: a, col: b, count: r.mismatches[a][b] })));
  return heatMap(`${id}-mismatch`, 'Output elements that differ between executors (0: bit-exact)', rows, '', '', names);
}

function blameChart(r: ValidateReport, id: string): Promise<Chart> {
  const b = r.blame!;
  const scale = b.metric === 'top1' ? 100 : 1;
  const unit = b.metric === 'top1' ? 'top-1 points' : 'output SQNR dB';
  const value = (s: { top1?: number; sqnrDb: number }) => (b.metric === 'top1' ? s.top1! : Math.min(s.sqnrDb, 1000));
  const order = b.layers.map((l) => l.layer);
  const rows = b.layers.flatMap((l) => [
    { layer: l.layer, measure: 'lost quantizing it alone', value: scale * (value(b.float) - value(l.alone)) },
    { layer: l.layer, measure: 'regained keeping it float', value: scale * (value(l.keptFloat) - value(b.quantized)) },
  ]);
  return render(`${id}-blame`, `Blame per layer (${unit}; weights only), costliest first`, {
    width: Math.max(300, 30 * order.length),
    height: 220,
    mark: 'bar',
    encoding: {
      x: { field: 'layer', type: 'nominal', sort: order, title: null },
      xOffset: { field: 'measure', type: 'nominal' },
      y: { field: 'value', type: 'quantitative', title: unit },
      color: { field: 'measure', type: 'nominal', title: null },
    },
  }, rows);
}

function planChart(r: ValidateReport, id: string): Promise<Chart> {
  const p = r.plan!;
  const rows = p.layers.map((l) => ({ layer: l.layer, bits: l.bits, kib: (l.params * l.bits) / 8 / 1024 }));
  return render(`${id}-plan`, `Suggested weight bits per layer (${(p.bytes / 1024).toFixed(2)} of ${p.budgetKb} KiB)`, {
    width: Math.max(300, 24 * rows.length),
    height: 180,
    mark: 'bar',
    encoding: {
      x: { field: 'layer', type: 'nominal', sort: rows.map((row) => row.layer), title: null },
      y: { field: 'kib', type: 'quantitative', title: 'packed weights (KiB)' },
      color: { field: 'bits', type: 'ordinal', scale: { scheme: 'viridis' } },
    },
  }, rows);
}

/** Several artefacts of one float model side by side (flexq's and another tool's): top-1 and agreement with float per executor. */
export function comparisonChart(validations: readonly ValidateReport[]): Promise<Chart> {
  const rows = validations.flatMap((r) =>
    r.executors.flatMap((e) => {
      const run = `${basename(r.quantized)}: ${e.executor}`;
      return [
        ...(e.top1 === undefined ? [] : [{ run, measure: 'top-1', percent: 100 * e.top1 }]),
        { run, measure: 'top-1 agreement with float', percent: 100 * e.top1Agreement },
      ];
    }),
  );
  const float = validations[0].floatTop1;
  return render('compare', `The quantized models compared on the same data${float === undefined ? '' : ` (float top-1 ${(100 * float).toFixed(2)} %: the line)`}`, {
    width: 360,
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'run', type: 'nominal', sort: null, title: null, axis: { labelLimit: 480 } },
          yOffset: { field: 'measure', type: 'nominal' },
          x: { field: 'percent', type: 'quantitative', title: '%', scale: { domain: [0, 100] } },
          color: { field: 'measure', type: 'nominal', title: null },
        },
      },
      ...(float === undefined ? [] : [{ mark: { type: 'rule' as const, color: 'black' }, encoding: { x: { datum: 100 * float } } }]),
    ],
  }, rows);
}

/** Every chart of one validation, ids prefixed with `id`. */
export async function validationCharts(r: ValidateReport, id: string): Promise<Chart[]> {
  const charts = [...layerCharts(r, id)];
  if (r.executors.length > 0) charts.push(confusionChart(r, id), mismatchChart(r, id));
  if (worstLayers(r).length > 0) charts.push(histogramChart(r, id));
  if (r.blame) charts.push(blameChart(r, id));
  if (r.plan) charts.push(planChart(r, id));
  return Promise.all(charts);
}
