import type { Command } from 'commander';
import { executorNames } from '../../api/registry.js';
import { checkBitPlanPath, writeBitPlan } from '../../api/bit-plan.js';
import { writeReport } from '../../api/report.js';
import { layeredExecutor, validate, type ValidateReport } from '../../api/validate.js';
import { fail } from '../../errors.js';
import { checkOutputFolder } from '../../output-folder.js';
import { REQUANT_MODES } from '../../quant/requant-mode.js';
import { LARGE_MASK_FRACTION, TASKS } from '../../task-metrics.js';
import { addDataOptions, dataOptions, oneOf, parseList, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface ValidateFlags extends DataFlags {
  data: string;
  modes: string;
  executors?: string;
  task?: string;
  json?: boolean;
  report?: string;
  force?: boolean;
  blame?: boolean;
  suggestBits?: string | true;
  budgetKb?: number;
}

/** The command line with every flag's value spelled out (defaults included), so it reproduces the run as it was. */
function commandLine(model: string, quantized: string[], f: ValidateFlags): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const flags = Object.entries(f).flatMap(([key, value]) => {
    if (value === undefined || value === false) return [];
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return value === true ? [flag] : [flag, quote(String(value))];
  });
  return ['flexq', 'validate', model, ...quantized, ...flags].map((s, k) => (k < 2 ? s : s.startsWith('--') ? s : quote(s))).join(' ');
}

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)} %`);

function printReport(r: ValidateReport): void {
  const made = r.artefact === 'fq' ? `${r.quantization.method} W${r.quantization.wbits}A${r.quantization.abits}` : `int8 ${r.artefact} made by another tool`;
  const lines = [`${r.quantized} (${made}, ${(r.weightBytes / 1024).toFixed(2)} KiB of weights) vs ${r.model} on ${r.data} (N=${r.count})`];
  if (r.task === 'classification') lines.push(`  float top-1: ${pct(r.floatTop1)}`);
  for (const e of r.executors) {
    if (r.task === 'classification')
      lines.push(`  ${e.executor}: top-1 ${pct(e.top1)}, top-1 agreement with float ${pct(e.top1Agreement)}, output SQNR ${e.output.sqnrDb.toFixed(1)} dB, cosine ${e.output.cosine.toFixed(5)}`);
    else lines.push(`  ${e.executor}:`);
    if (e.segmentation) {
      const s = e.segmentation;
      lines.push(`    mask IoU (p > 0.5) with float: ${s.maskIou.toFixed(4)} mean per image (1 where both masks are empty), ${s.pooledMaskIou.toFixed(4)} pooled`);
      lines.push(`      ${s.largeMaskIou.toFixed(4)} mean over the ${s.largeMaskCount} images whose float mask covers ≥ ${LARGE_MASK_FRACTION * 100} %; float mask empty in ${s.emptyMaskCount}, kept empty in ${s.emptyMaskKept}`);
    }
    if (e.detection)
      lines.push(`    top score: same anchor as float ${pct(e.detection.topScoreAgreement)}, |score error| ${e.detection.topScoreError.toPrecision(3)}; top box IoU with float ${e.detection.topBoxIou.toFixed(4)}`);
    if (r.task !== 'classification')
      for (const [name, s] of Object.entries(e.outputs)) lines.push(`    output '${name}': SQNR ${s.sqnrDb.toFixed(1)} dB, cosine ${s.cosine.toFixed(5)}, max |err| ${s.maxAbsError.toPrecision(3)}`);
  }
  lines.push(`  float: ${r.floatMsPerSample.toFixed(3)} ms per sample; ${r.executors.map((e) => `${e.executor}: ${e.msPerSample.toFixed(3)}`).join(', ')}`);
  const first = layeredExecutor(r);
  lines.push('', `  per layer (${first?.executor ?? 'no executor'} vs float):`);
  const rows = (first?.layers ?? []).map((l) => [l.value, l.op, l.shape, l.sqnrDb.toFixed(1), l.cosine.toFixed(5), l.maxAbsError.toPrecision(3)]);
  const header = ['value', 'op', 'shape', 'SQNR dB', 'cosine', 'max |err|'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  for (const row of [header, ...rows]) lines.push('  ' + row.map((c, k) => (k >= 3 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  '));
  if (r.executors.length > 1) {
    lines.push('', '  output elements that differ between executors:');
    for (const [a, row] of Object.entries(r.mismatches)) lines.push(`  ${a.padEnd(24)} ${Object.values(row).map((n) => String(n).padStart(8)).join(' ')}`);
  }
  if (r.blame) {
    const b = r.blame;
    const show = (x: { top1?: number; sqnrDb: number }) => (b.metric === 'top1' ? pct(x.top1) : `${x.sqnrDb.toFixed(2)} dB`);
    lines.push('', `  blame (weights only, activations float): all float ${show(b.float)}, all quantized ${show(b.quantized)}; costliest first:`);
    for (const l of b.layers) lines.push(`  ${l.layer.padEnd(28)} W${l.bits} ${String(l.params).padStart(7)} params: only it quantized ${show(l.alone)}, only it float ${show(l.keptFloat)}`);
  }
  if (r.plan) {
    const p = r.plan;
    lines.push('', `  bit plan: ${(p.bytes / 1024).toFixed(2)} of ${p.budgetKb} KiB; top-1 predicted ${pct(p.predicted.top1)}, measured ${pct(p.measured.top1)} (RTN, activations float); output SQNR predicted ${p.predicted.sqnrDb.toFixed(2)} dB, measured ${p.measured.sqnrDb.toFixed(2)} dB`);
    lines.push(`  ${p.layers.map((l) => `${l.layer}:${l.bits}`).join(' ')}`);
  }
  for (const d of r.deployments ?? []) lines.push('', d.summary);
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerValidate(program: Command): void {
  addDataOptions(
    program
      .command('validate')
      .description('compare quantized artefacts against their float model: accuracy, top-1 agreement, per-layer SQNR; optionally an HTML report, blame per layer and a bit plan')
      .argument('<model>', 'the float model (.onnx/.tflite)')
      .argument('<quantized...>', 'the .fq files made from it, or int8 models other tools made from it (the TFLite converter\'s .tflite): one report section each'),
  )
    .option('--modes <modes>', `integer runtime modes to run: comma-separated (${REQUANT_MODES.join(', ')}), or all`, 'all')
    .option('--executors <names>', `executors to compare: comma-separated (${executorNames().join(', ')}; float runs the dequantized weights, the one executor of a weights-only .fq), or all (default: runtime; for an int8 .tflite another tool made, litert on the file and runtime on its import)`)
    .option('--task <task>', `what the outputs are: ${TASKS.join(' | ')} (segmentation: mask IoU; detection: top score and box)`, 'classification')
    .option('--report <dir>', 'write an HTML report (index.html, charts drawn offline) and report.json into DIR; a compiled target\'s executor (qemu-m4) adds its deployment figures')
    .option('--force', 'with --report: write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--blame', 'measure what quantizing each layer\'s weights alone loses and keeping each float regains')
    .option('--suggest-bits [file]', 'write per-layer weight bits fitting --budget-kb to FILE (default PLAN.json; use with quantize --bits)')
    .option('--budget-kb <n>', 'with --suggest-bits: KiB of packed weights the plan may use', parseFloat)
    .option('--json', 'one JSON object on stdout (an array with several quantized models)')
    .action(async (model: string, quantized: string[], f: ValidateFlags) => {
      if ((f.suggestBits !== undefined) !== (f.budgetKb !== undefined)) fail('BAD_ARGUMENT', '--suggest-bits and --budget-kb go together: give both, e.g. --suggest-bits PLAN.json --budget-kb 30');
      if (f.suggestBits !== undefined && quantized.length > 1) fail('BAD_ARGUMENT', `--suggest-bits writes one plan: give one .fq, found ${quantized.length}`);
      // Both outputs are checked before minutes of work, and again when written.
      const planPath = f.suggestBits === true ? 'PLAN.json' : f.suggestBits;
      if (planPath !== undefined) checkBitPlanPath(planPath);
      if (f.report !== undefined) checkOutputFolder(f.report, { force: f.force });
      const modes = parseList(f.modes);
      const reports: ValidateReport[] = [];
      for (const fq of quantized)
        reports.push(
          await validate(model, fq, {
            ...dataOptions(f),
            data: f.data,
            modes: modes === 'all' ? 'all' : modes.map((m) => oneOf('--modes', m, REQUANT_MODES)!),
            executors: f.executors === undefined ? undefined : parseList(f.executors),
            blame: f.blame,
            budgetKb: f.budgetKb,
            task: oneOf('--task', f.task, TASKS),
            deployment: f.report !== undefined,
            progress: createProgress,
            log: (line) => process.stderr.write(`${line}\n`),
          }),
        );
      if (planPath !== undefined) writeBitPlan(planPath, model, reports[0].plan!);
      if (f.report !== undefined) await writeReport(f.report, reports, { command: commandLine(model, quantized, f), force: f.force });
      if (f.json) process.stdout.write(JSON.stringify(reports.length === 1 ? reports[0] : reports) + '\n');
      else reports.forEach(printReport);
      if (f.report !== undefined && !f.json) process.stdout.write(`wrote the report: ${f.report}/index.html (open it in a browser, or flexq serve --report ${f.report})\n`);
    });
}
