import type { Command } from 'commander';
import { evaluate } from '../../api/evaluate.js';
import { executorNames } from '../../api/registry.js';
import { REQUANT_MODES, type RequantMode } from '../../quant/requant-mode.js';
import { addDataOptions, dataOptions, oneOf, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface EvalFlags extends DataFlags { data: string; json?: boolean; executor?: string; mode: string }

/** The (executor, mode) pairs of comma-separated --executor and --mode: the runtime once per mode, every other executor once. */
function evaluations(f: EvalFlags): { executor: string | undefined; mode: RequantMode }[] {
  const modes = f.mode.split(',').map((m) => oneOf('--mode', m.trim(), REQUANT_MODES)!);
  const executors = f.executor === undefined ? [undefined] : f.executor.split(',').map((e) => e.trim());
  return executors.flatMap((executor) => (executor === undefined || executor === 'runtime' ? modes : modes.slice(0, 1)).map((mode) => ({ executor, mode })));
}

export function registerEval(program: Command): void {
  addDataOptions(program.command('eval').description('accuracy (top-1, top-5) of a model or a quantized graph on labelled data').argument('<artefact>', '.onnx, .tflite or .fq'))
    .option('--executor <kinds>', `${executorNames().join(' | ')}, or several comma-separated (default: runtime for an .fq with quantized activations, else float)`)
    .option('--mode <modes>', `requantization mode(s) of the integer runtime: ${REQUANT_MODES.join(' | ')}, comma-separated`, 'tflite-double')
    .option('--json', 'one JSON object on stdout')
    .action(async (path: string, f: EvalFlags) => {
      const reports = [];
      for (const { executor, mode } of evaluations(f)) reports.push(await evaluate(path, { ...dataOptions(f), data: f.data, executor, mode, progress: createProgress }));
      // One JSON object either way: the report itself, or every report when several were asked for.
      if (f.json) return void process.stdout.write(JSON.stringify(reports.length === 1 ? reports[0] : { model: path, data: f.data, reports }) + '\n');
      for (const r of reports)
        process.stdout.write(`${r.model} on ${r.data} (${r.executor}): top-1 ${(100 * r.top1).toFixed(2)} %, top-5 ${(100 * r.top5).toFixed(2)} %, N=${r.count}, ${r.seconds.toFixed(1)} s\n`);
    });
}
