import type { Command } from 'commander';
import { executorNames } from '../../api/registry.js';
import { run } from '../../api/run.js';
import { REQUANT_MODES } from '../../quant/requant-mode.js';
import { addDataOptions, dataOptions, oneOf, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';

interface RunFlags extends DataFlags { data: string; executor?: string; mode: string; output?: string; raw?: boolean; json?: boolean }

export function registerRun(program: Command): void {
  addDataOptions(program.command('run').description('run a model or quantized graph with one executor: outputs (.npy) and top-5 per sample').argument('<artefact>', '.onnx, .tflite or .fq'))
    .option('--executor <kind>', `${executorNames().join(' | ')} (default: runtime for an .fq with quantized activations, else float)`)
    .option('--mode <mode>', `requantization mode of the integer runtime: ${REQUANT_MODES.join(' | ')}`, 'tflite-double')
    .option('-o, --output <file>', 'write the outputs as a float32 .npy [N, ...]')
    .option('--raw', 'write the integer output tensors (int8 .npy on the .fq\'s output grid) instead')
    .option('--json', 'one JSON object on stdout')
    .action(async (path: string, f: RunFlags) => {
      const r = await run(path, { ...dataOptions(f), data: f.data, executor: f.executor, mode: oneOf('--mode', f.mode, REQUANT_MODES), output: f.output, raw: f.raw, progress: createProgress });
      if (f.json) return void process.stdout.write(JSON.stringify(r) + '\n');
      const lines = [`${r.artefact} on ${r.data} (${r.executor}): ${r.samples.length} samples, output [${r.outputShape.join(',')}]${r.output ? `, wrote ${r.output}` : ''}`];
      for (const s of r.samples)
        lines.push(`  ${String(s.index).padStart(5)}${s.label !== undefined ? ` label ${String(s.label).padStart(4)}` : ''}  top-5 ${s.top5.map((k) => `${k} (${s.scores[k].toPrecision(4)})`).join(', ')}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
