import type { Command } from 'commander';
import { executorNames } from '../../api/registry.js';
import { validate, type ValidateReport } from '../../api/validate.js';
import { REQUANT_MODES } from '../../quant/requant-mode.js';
import { TASKS } from '../../task-metrics.js';
import { addDataOptions, dataOptions, oneOf, parseList, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface ValidateFlags extends DataFlags { data: string; modes: string; executors: string; task?: string; json?: boolean }

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)} %`);

function printReport(r: ValidateReport): void {
  const lines = [`${r.quantized} vs ${r.model} on ${r.data} (N=${r.count})`];
  if (r.task === 'classification') lines.push(`  float top-1: ${pct(r.floatTop1)}`);
  for (const e of r.executors) {
    if (r.task === 'classification')
      lines.push(`  ${e.executor}: top-1 ${pct(e.top1)}, top-1 agreement with float ${pct(e.top1Agreement)}, output SQNR ${e.output.sqnrDb.toFixed(1)} dB, cosine ${e.output.cosine.toFixed(5)}`);
    else lines.push(`  ${e.executor}:`);
    if (e.segmentation) lines.push(`    mask IoU (p > 0.5) with float: ${e.segmentation.maskIou.toFixed(4)} mean per image, ${e.segmentation.pooledMaskIou.toFixed(4)} pooled`);
    if (e.detection)
      lines.push(`    top score: same anchor as float ${pct(e.detection.topScoreAgreement)}, |score error| ${e.detection.topScoreError.toPrecision(3)}; top box IoU with float ${e.detection.topBoxIou.toFixed(4)}`);
    if (r.task !== 'classification')
      for (const [name, s] of Object.entries(e.outputs)) lines.push(`    output '${name}': SQNR ${s.sqnrDb.toFixed(1)} dB, cosine ${s.cosine.toFixed(5)}, max |err| ${s.maxAbsError.toPrecision(3)}`);
  }
  const first = r.executors[0];
  lines.push('', `  per layer (${first.executor} vs float):`);
  const rows = first.layers.map((l) => [l.value, l.op, l.shape, l.sqnrDb.toFixed(1), l.cosine.toFixed(5), l.maxAbsError.toPrecision(3)]);
  const header = ['value', 'op', 'shape', 'SQNR dB', 'cosine', 'max |err|'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  for (const row of [header, ...rows]) lines.push('  ' + row.map((c, k) => (k >= 3 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  '));
  if (r.executors.length > 1) {
    lines.push('', '  output elements that differ between executors:');
    for (const [a, row] of Object.entries(r.mismatches)) lines.push(`  ${a.padEnd(24)} ${Object.values(row).map((n) => String(n).padStart(8)).join(' ')}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerValidate(program: Command): void {
  addDataOptions(program.command('validate').description('compare a quantized graph against its float model: accuracy, top-1 agreement, per-layer SQNR').argument('<model>', 'the float model (.onnx/.tflite)').argument('<quantized>', 'the .fq made from it'))
    .option('--modes <modes>', `integer runtime modes to run: comma-separated (${REQUANT_MODES.join(', ')}), or all`, 'all')
    .option('--executors <names>', `integer executors to compare: comma-separated (${executorNames().slice(1).join(', ')}), or all`, 'runtime')
    .option('--task <task>', `what the outputs are: ${TASKS.join(' | ')} (segmentation: mask IoU; detection: top score and box)`, 'classification')
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, quantized: string, f: ValidateFlags) => {
      const modes = parseList(f.modes);
      const r = await validate(model, quantized, {
        ...dataOptions(f),
        data: f.data,
        modes: modes === 'all' ? 'all' : modes.map((m) => oneOf('--modes', m, REQUANT_MODES)!),
        executors: parseList(f.executors),
        task: oneOf('--task', f.task, TASKS),
        progress: createProgress,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
      else printReport(r);
    });
}
