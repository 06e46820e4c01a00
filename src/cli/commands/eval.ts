import { REQUANT_MODES } from '../../../runtime/requant/index.js';
import type { Command } from 'commander';
import { openDataset, type Layout, type Preprocess } from '../../../calibration/index.js';
import { fail } from '../../errors.js';
import { formatShape, isStatic } from '../../ir/shape.js';
import { createProgress } from '../progress.js';
import { parseCount } from '../options.js';
import { defaultExecutor, executorNames, openArtefact, parseMode } from '../executors.js';
import type { Graph } from '../../ir/graph.js';
import { topKAccuracy, type Accuracy } from '../../metrics.js';

export interface DataOptions {
  labels?: string;
  preprocess: Preprocess;
  layout?: Layout;
  limit?: number;
  offset?: number;
  inputShape?: string;
  batch: number;
}

/** The data options every command that reads DATA takes (`--data`, or `--calib` for quantize). */
export function addDataOptions(cmd: Command, flag: '--data' | '--calib' = '--data'): Command {
  return cmd
    .requiredOption(`${flag} <path>`, 'ImageFolder directory or .npy file')
    .option('--labels <file>', '.npy of integer labels (for .npy data)')
    .option('--preprocess <preset>', 'none | unit | pm1 | imagenet', 'none')
    .option('--layout <layout>', 'layout of 4-D .npy samples: nchw | nhwc')
    .option('--limit <n>', 'use at most N samples', parseCount('--limit', 1))
    .option('--offset <n>', 'skip the first N samples', parseCount('--offset'))
    .option('--input-shape <dims>', 'concrete dims for dynamic input dims, e.g. 1,3,48,192')
    .option('--batch <n>', 'samples per batch', parseCount('--batch', 1), 32);
}

interface EvalOptions extends DataOptions { data: string; json?: boolean; executor?: string; mode?: string }

export interface EvalReport extends Accuracy {
  readonly model: string;
  readonly data: string;
  readonly executor: string;
  readonly seconds: number;
}

/** The static per-sample input shape of a graph, or an error saying to pass --input-shape. */
export function sampleShapeOf(graph: Graph, path: string): number[] {
  if (graph.inputs.length !== 1) fail('BAD_ARGUMENT', `${path}: flexq runs models with one input; this one has ${graph.inputs.length}`);
  const input = graph.inputs[0];
  const sample = graph.values.get(input)!.shape.slice(1);
  if (!isStatic(sample)) fail('BAD_ARGUMENT', `${path}: input '${input}' has dynamic dims ${formatShape(sample)}; give them with --input-shape`);
  return [...sample];
}

/** Top-1/top-5 of a model (float executor) or an .fq (integer runtime, or float with dequantized weights). */
export async function evaluate(path: string, opts: EvalOptions): Promise<EvalReport> {
  const start = performance.now();
  const artefact = openArtefact(path, opts.inputShape);
  const executor = await defaultExecutor(artefact, opts.executor, { mode: parseMode(opts.mode ?? 'tflite-double') });
  const sampleShape = sampleShapeOf(executor.graph, path);
  const data = await openDataset({ path: opts.data, labels: opts.labels, preprocess: opts.preprocess, layout: opts.layout, limit: opts.limit, offset: opts.offset, sampleShape });
  if (!data.labeled) fail('BAD_ARGUMENT', `${opts.data}: eval needs labels; give --labels labels.npy for .npy data`);
  const progress = createProgress('eval', data.size);
  const logits: Float32Array[] = [];
  const labels: number[] = [];
  try {
    for await (const batch of data.batches(opts.batch)) {
      const out = (await executor.run({ shape: [batch.count, ...sampleShape], data: batch.data })).get(executor.graph.outputs[0])!;
      const classes = out.data.length / batch.count;
      for (let i = 0; i < batch.count; i++) logits.push(out.data.subarray(i * classes, (i + 1) * classes));
      labels.push(...batch.labels!);
      progress.advance(batch.count);
    }
  } finally {
    await executor.dispose();
  }
  progress.finish();
  return { model: path, data: opts.data, executor: executor.name, ...topKAccuracy(logits, labels), seconds: (performance.now() - start) / 1000 };
}

export function registerEval(program: Command): void {
  addDataOptions(program.command('eval').description('accuracy (top-1, top-5) of a model or a quantized graph on labelled data').argument('<artefact>', '.onnx, .tflite or .fq'))
    .option('--executor <kind>', `${executorNames().join(' | ')} (default: runtime for an .fq with quantized activations, else float)`)
    .option('--mode <mode>', `requantization mode of the integer runtime: ${REQUANT_MODES.join(' | ')}`, 'tflite-double')
    .option('--json', 'one JSON object on stdout')
    .action(async (path: string, opts: EvalOptions) => {
      const r = await evaluate(path, opts);
      if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          `${r.model} on ${r.data} (${r.executor}): top-1 ${(100 * r.top1).toFixed(2)} %, top-5 ${(100 * r.top5).toFixed(2)} %, N=${r.count}, ${r.seconds.toFixed(1)} s\n`,
        );
    });
}
