import type { Command } from 'commander';
import { evaluate } from '../../api/evaluate.js';
import { executorNames } from '../../api/registry.js';
import { REQUANT_MODES } from '../../quant/requant-mode.js';
import { addDataOptions, dataOptions, oneOf, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface EvalFlags extends DataFlags { data: string; json?: boolean; executor?: string; mode: string }

export function registerEval(program: Command): void {
  addDataOptions(program.command('eval').description('accuracy (top-1, top-5) of a model or a quantized graph on labelled data').argument('<artefact>', '.onnx, .tflite or .fq'))
    .option('--executor <kind>', `${executorNames().join(' | ')} (default: runtime for an .fq with quantized activations, else float)`)
    .option('--mode <mode>', `requantization mode of the integer runtime: ${REQUANT_MODES.join(' | ')}`, 'tflite-double')
    .option('--json', 'one JSON object on stdout')
    .action(async (path: string, f: EvalFlags) => {
      const r = await evaluate(path, { ...dataOptions(f), data: f.data, executor: f.executor, mode: oneOf('--mode', f.mode, REQUANT_MODES), progress: createProgress });
      if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`${r.model} on ${r.data} (${r.executor}): top-1 ${(100 * r.top1).toFixed(2)} %, top-5 ${(100 * r.top5).toFixed(2)} %, N=${r.count}, ${r.seconds.toFixed(1)} s\n`);
    });
}
