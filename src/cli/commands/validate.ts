import type { Command } from 'commander';
import { executorNames } from '../../api/registry.js';
import { validate, type ValidateReport } from '../../api/validate.js';
import { validateArtefacts, type ValidateArtefactsReport } from '../../api/validate-artefacts.js';
import { readModelFile } from '../../import/index.js';
import { isFq } from '../../quant/fq-file.js';
import { fail } from '../../errors.js';
import { REQUANT_MODES } from '../../quant/requant-mode.js';
import { addDataOptions, dataOptions, oneOf, parseList, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface ValidateFlags extends DataFlags { data: string; modes: string; executors?: string; json?: boolean }

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)} %`);

function printReport(r: ValidateReport): void {
  const lines = [`${r.quantized} vs ${r.model} on ${r.data} (N=${r.count})`, `  float top-1: ${pct(r.floatTop1)}`];
  for (const e of r.executors)
    lines.push(`  ${e.executor}: top-1 ${pct(e.top1)}, top-1 agreement with float ${pct(e.top1Agreement)}, output SQNR ${e.output.sqnrDb.toFixed(1)} dB, cosine ${e.output.cosine.toFixed(5)}`);
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

/** Several artefacts, or int8 models other tools made: accuracy and agreement at the outputs. */
function printArtefacts(r: ValidateArtefactsReport): void {
  const lines = [`${r.artefacts.join(', ')} vs ${r.model} on ${r.data} (N=${r.count})`, `  float top-1: ${pct(r.floatTop1)}`];
  for (const e of r.executors)
    lines.push(`  ${e.artefact}: ${e.executor}: top-1 ${pct(e.top1)}, top-1 agreement with float ${pct(e.top1Agreement)}, output SQNR ${e.output.sqnrDb.toFixed(1)} dB, cosine ${e.output.cosine.toFixed(5)}`);
  lines.push('', '  output values that differ between executors:');
  Object.values(r.mismatches).forEach((row, k) => lines.push(`  [${k + 1}] ${Object.values(row).map((n) => String(n).padStart(8)).join(' ')}`));
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerValidate(program: Command): void {
  addDataOptions(
    program
      .command('validate')
      .description('compare quantized artefacts against their float model: accuracy, top-1 agreement, SQNR (per layer for one .fq)')
      .argument('<model>', 'the float model (.onnx/.tflite)')
      .argument('<quantized...>', 'the .fq made from it, or int8 models (e.g. the TFLite converter\'s .tflite) and more .fq files'),
  )
    .option('--modes <modes>', `integer runtime modes to run: comma-separated (${REQUANT_MODES.join(', ')}), or all`, 'all')
    .option('--executors <names>', `integer executors to compare: comma-separated (${executorNames().slice(1).join(', ')}), or all (default: runtime; for int8 models also litert)`)
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, artefacts: string[], f: ValidateFlags) => {
      if (artefacts.length > 1 || !isFq(readModelFile(artefacts[0]))) {
        const executors = f.executors === undefined ? undefined : parseList(f.executors);
        if (executors === 'all') fail('BAD_ARGUMENT', '--executors all compares one .fq; name the executors to run the int8 models in (e.g. litert,runtime)');
        const modes = parseList(f.modes);
        const r = await validateArtefacts(model, artefacts, {
          ...dataOptions(f),
          data: f.data,
          executors,
          mode: modes === 'all' ? undefined : oneOf('--modes', modes[0], REQUANT_MODES),
          progress: createProgress,
        });
        if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
        else printArtefacts(r);
        return;
      }
      const quantized = artefacts[0];
      f.executors ??= 'runtime';
      const modes = parseList(f.modes);
      const r = await validate(model, quantized, {
        ...dataOptions(f),
        data: f.data,
        modes: modes === 'all' ? 'all' : modes.map((m) => oneOf('--modes', m, REQUANT_MODES)!),
        executors: parseList(f.executors),
        progress: createProgress,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
      else printReport(r);
    });
}
