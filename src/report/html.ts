// The validation report as one self-contained HTML page: the charts as inline SVG, tables whose number cells name
// the report.json field they show (data-key, data-format), the data itself embedded as JSON, and the command.
import type { ValidateReport } from '../api/validate.js';
import { comparisonChart, validationCharts, type Chart } from './charts.js';

/** What report.json holds and the page embeds. */
export interface ReportData {
  readonly format: 'flexq-report/1';
  readonly flexqVersion: string;
  readonly created: string;
  /** The command line that reproduces the report. */
  readonly command: string;
  readonly validations: ValidateReport[];
}

export const CELL_FORMATS = ['percent', 'db', 'cosine', 'ms', 'count', 'kib', 'bits'] as const;
export type CellFormat = (typeof CELL_FORMATS)[number];

/** JSON has no ∞ (an SQNR of a bit-exact pair): report.json writes non-finite numbers as strings. */
export const jsonNumbers = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/** How a number cell shows a value of report.json (the browser test formats the file's values the same way). */
export function formatCell(json: unknown, format: CellFormat): string {
  if (json === undefined || json === null) return '—';
  const value = Number(json);
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '−∞' : 'NaN';
  switch (format) {
    case 'percent':
      return `${(100 * value).toFixed(2)} %`;
    case 'db':
      return value.toFixed(2);
    case 'cosine':
      return value.toFixed(5);
    case 'ms':
      return value.toFixed(3);
    case 'kib':
      return (value / 1024).toFixed(2);
    case 'count':
    case 'bits':
      return String(Math.round(value));
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Reads the value at a dotted path (numbers index arrays) of the report data. */
export function valueAt(data: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], data);
}

type Cell = string | { key: string; format: CellFormat };

function table(caption: string, header: string[], rows: Cell[][], data: ReportData): string {
  const cell = (c: Cell) =>
    typeof c === 'string' ? `<td>${escapeHtml(c)}</td>` : `<td class="num" data-key="${c.key}" data-format="${c.format}">${escapeHtml(formatCell(valueAt(data, c.key), c.format))}</td>`;
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function accuracyTable(r: ValidateReport, at: string, data: ReportData): string {
  const rows: Cell[][] = [
    ['float', { key: `${at}.floatTop1`, format: 'percent' }, '—', '—', '—', { key: `${at}.floatMsPerSample`, format: 'ms' }],
    ...r.executors.map((e, k): Cell[] => {
      const ex = `${at}.executors.${k}`;
      return [e.executor, { key: `${ex}.top1`, format: 'percent' }, { key: `${ex}.top1Agreement`, format: 'percent' }, { key: `${ex}.output.sqnrDb`, format: 'db' }, { key: `${ex}.output.cosine`, format: 'cosine' }, { key: `${ex}.msPerSample`, format: 'ms' }];
    }),
  ];
  return table(`Accuracy and latency on ${r.data} (${r.count} samples; latency is this machine's wall time per sample, batches included)`, ['executor', 'top-1', 'top-1 agreement with float', 'output SQNR dB', 'output cosine', 'ms per sample'], rows, data);
}

function deploymentTable(r: ValidateReport, at: string, data: ReportData): string {
  return (r.deployments ?? [])
    .map((d, k) => {
      const key = `${at}.deployments.${k}.figures`;
      const rows = Object.keys(d.figures).map((name): Cell[] => [name, { key: `${key}.${name}`, format: 'count' }]);
      return `${table(`Deployment: ${d.target} (run by ${d.executor}), bit-exact with the integer runtime: ${d.bitExact ? 'yes' : 'NO'}`, ['figure', 'value'], rows, data)}<pre>${escapeHtml(d.summary)}</pre>`;
    })
    .join('');
}

function blameTable(r: ValidateReport, at: string, data: ReportData): string {
  const b = r.blame!;
  const metric = b.metric === 'top1' ? 'top1' : 'sqnrDb';
  const format: CellFormat = b.metric === 'top1' ? 'percent' : 'db';
  const rows: Cell[][] = [
    ['all float', '', '', '', { key: `${at}.blame.float.${metric}`, format }, '—'],
    ['all quantized', '', '', '', '—', { key: `${at}.blame.quantized.${metric}`, format }],
    ...b.layers.map((l, k): Cell[] => {
      const key = `${at}.blame.layers.${k}`;
      return [l.layer, l.op, { key: `${key}.params`, format: 'count' }, { key: `${key}.bits`, format: 'bits' }, { key: `${key}.alone.${metric}`, format }, { key: `${key}.keptFloat.${metric}`, format }];
    }),
  ];
  return table(`Blame (weights only, activations float; ${b.metric === 'top1' ? 'top-1' : 'output SQNR dB'}), costliest first`, ['layer', 'op', 'params', 'bits', 'only this layer quantized', 'only this layer float'], rows, data);
}

function planTable(r: ValidateReport, at: string, data: ReportData): string {
  const p = r.plan!;
  const metric = p.measured.top1 !== undefined ? 'top1' : 'sqnrDb';
  const format: CellFormat = metric === 'top1' ? 'percent' : 'db';
  const layers = table('Suggested bits', ['layer', 'params', 'bits'], p.layers.map((l, k): Cell[] => [l.layer, { key: `${at}.plan.layers.${k}.params`, format: 'count' }, { key: `${at}.plan.layers.${k}.bits`, format: 'bits' }]), data);
  const outcome = table(
    `The plan: ${metric === 'top1' ? 'top-1' : 'output SQNR dB'} predicted from the blame figures against measured (RTN weights, activations float)`,
    ['KiB of weights', 'budget KiB', 'predicted', 'measured'],
    [[{ key: `${at}.plan.bytes`, format: 'kib' }, String(p.budgetKb), { key: `${at}.plan.predicted.${metric}`, format }, { key: `${at}.plan.measured.${metric}`, format }]],
    data,
  );
  return outcome + layers;
}

/** Who made a validated model, in words. */
function madeBy(r: ValidateReport): string {
  const q = r.quantization;
  return r.artefact === 'fq' ? `flexq, ${q.method} W${q.wbits}A${q.abits}` : `another tool (int8 ${r.artefact}), imported by flexq to run in its runtime`;
}

/** One row per artefact and executor: the figures a person compares flexq's model with a converter's by. */
function comparisonTable(data: ReportData): string {
  const rows = data.validations.flatMap((r, k) =>
    r.executors.map((e, j): Cell[] => {
      const ex = `validations.${k}.executors.${j}`;
      return [r.quantized, madeBy(r), e.executor, { key: `${ex}.top1`, format: 'percent' }, { key: `${ex}.top1Agreement`, format: 'percent' }, { key: `${ex}.output.sqnrDb`, format: 'db' }, { key: `validations.${k}.weightBytes`, format: 'kib' }];
    }),
  );
  const first = data.validations[0];
  return table(`The quantized models compared on ${first.data} (${first.count} samples)`, ['model', 'made by', 'executor', 'top-1', 'top-1 agreement with float', 'output SQNR dB', 'KiB of weights'], rows, data);
}

function figure(c: Chart): string {
  return `<figure id="${c.id}" class="chart"><figcaption>${escapeHtml(c.title)}</figcaption>${c.svg}</figure>`;
}

async function section(r: ValidateReport, k: number, data: ReportData): Promise<string> {
  const at = `validations.${k}`;
  const charts = new Map((await validationCharts(r, `v${k}`)).map((c) => [c.id.slice(`v${k}-`.length), c]));
  const chart = (name: string) => (charts.has(name) ? figure(charts.get(name)!) : '');
  return [
    `<section><h2>${escapeHtml(`${r.quantized}: made by ${madeBy(r)}`)}</h2>`,
    accuracyTable(r, at, data),
    deploymentTable(r, at, data),
    `<div class="charts">${['sqnr', 'cosine', 'histograms', 'confusion', 'mismatch'].map(chart).join('')}</div>`,
    r.blame ? `<h3>Blame</h3>${blameTable(r, at, data)}${chart('blame')}` : '',
    r.plan ? `<h3>Bit plan</h3>${planTable(r, at, data)}${chart('plan')}` : '',
    '</section>',
  ].join('\n');
}

const STYLE = `body{font:14px/1.4 sans-serif;margin:24px;color:#222;background:#fff}table{border-collapse:collapse;margin:12px 0}
caption{text-align:left;font-weight:bold;padding:4px 0}td,th{border:1px solid #ccc;padding:3px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:8px 0}figcaption{font-weight:bold;margin-bottom:4px}pre,code{background:#f4f4f4;padding:6px}`;

/** The whole page; its tables show `json` (the text of report.json), so page and file agree to the digit. */
export async function reportHtml(data: ReportData, json: string): Promise<string> {
  const shown = JSON.parse(json) as ReportData;
  const sections = await Promise.all(data.validations.map((r, k) => section(r, k, shown)));
  // Several models of one float model (flexq's, a converter's): their figures side by side first.
  if (data.validations.length > 1) sections.unshift(`<section><h2>Comparison</h2>${comparisonTable(shown)}<div class="charts">${figure(await comparisonChart(data.validations))}</div></section>`);
  // "</" inside the JSON would end the script element early.
  const embedded = json.replace(/<\//g, '<\\/');
  const model = data.validations[0]?.model ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flexq report: ${escapeHtml(model)}</title><style>${STYLE}</style></head>
<body><h1>flexq validation report: ${escapeHtml(model)}</h1>
<p>Made by flexq ${escapeHtml(data.flexqVersion)} on ${escapeHtml(data.created)}. Reproduce it with:</p><pre id="command">${escapeHtml(data.command)}</pre>
${sections.join('\n')}
<script type="application/json" id="report-data">${embedded}</script>
</body></html>
`;
}
