import type { Command } from 'commander';
import { formatShape } from '../../ir/shape.js';
import { loadModel } from '../../load-model.js';
import { summarizeModel, type ModelSummary } from '../../model-summary.js';
import { parseInputShape } from '../options.js';

interface InspectOptions { json?: boolean; inputShape?: string; raw?: boolean }

const human = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

function printSummary(path: string, format: string, s: ModelSummary, raw: boolean): void {
  const out: string[] = [];
  out.push(`${path} (${format}${raw ? ', as imported' : ', after flexq passes'})`);
  for (const i of s.inputs) out.push(`  input  ${i.name} ${formatShape(i.shape)} ${i.dtype}`);
  for (const o of s.outputs) out.push(`  output ${o.name} ${formatShape(o.shape)}`);
  out.push(`  ops: ${Object.entries(s.ops).map(([k, v]) => `${k}×${v}`).join(', ')}`);
  out.push(`  params: ${human(s.params)}   MACs/sample: ${human(s.macs)}`, '');
  const rows = s.layers.map((l) => [l.name, l.op + (l.attrs.activation && l.attrs.activation !== 'none' ? `+${l.attrs.activation}` : ''), formatShape(l.output), human(l.params), human(l.macs)]);
  const header = ['layer', 'op', 'output', 'params', 'MACs'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  for (const r of [header, ...rows]) out.push('  ' + r.map((c, k) => (k >= 3 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  '));
  process.stdout.write(out.join('\n') + '\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('graph summary: ops, params, shapes and MACs per layer; every unsupported op is listed at once')
    .argument('<model>', '.onnx or .tflite model')
    .option('--input-shape <dims>', 'concrete dims for dynamic input dims, e.g. 1,3,48,192')
    .option('--raw', 'show the graph as imported, before flexq passes')
    .option('--json', 'one JSON object on stdout')
    .action((model: string, opts: InspectOptions) => {
      const loaded = loadModel(model, { inputShape: parseInputShape(opts.inputShape) });
      const summary = summarizeModel(opts.raw ? loaded.imported : loaded.graph);
      if (opts.json) process.stdout.write(JSON.stringify({ model, format: loaded.format, ...summary }) + '\n');
      else printSummary(model, loaded.format, summary, opts.raw === true);
    });
}
