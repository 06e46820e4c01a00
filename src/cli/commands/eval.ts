import type { Command } from 'commander';
import { openDataset, type Layout, type Preprocess } from '../../../calibration/index.js';
import { fail } from '../../errors.js';
import { createFloatExecutor } from '../../exec/float-executor.js';
import { formatShape, isStatic } from '../../ir/shape.js';
import { loadModel } from '../../load-model.js';
import { createProgress } from '../progress.js';
import { parseCount, parseInputShape } from '../options.js';
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

interface EvalOptions extends DataOptions { data: string; json?: boolean }

export interface EvalReport extends Accuracy {
  readonly model: string;
  readonly data: string;
  readonly executor: string;
  readonly seconds: number;
}

export async function evaluateFloat(model: string, opts: EvalOptions): Promise<EvalReport> {
  const start = performance.now();
  const { graph } = loadModel(model, { inputShape: parseInputShape(opts.inputShape) });
  if (graph.inputs.length !== 1) fail('BAD_ARGUMENT', `${model}: eval needs a model with one input; this one has ${graph.inputs.length}`);
  const input = graph.inputs[0];
  const sampleShape = graph.values.get(input)!.shape.slice(1);
  if (!isStatic(sampleShape)) fail('BAD_ARGUMENT', `${model}: input '${input}' has dynamic dims ${formatShape(sampleShape)}; give them with --input-shape`);
  const data = await openDataset({ path: opts.data, labels: opts.labels, preprocess: opts.preprocess, layout: opts.layout, limit: opts.limit, offset: opts.offset, sampleShape });
  if (!data.labeled) fail('BAD_ARGUMENT', `${opts.data}: eval needs labels; give --labels labels.npy for .npy data`);
  const executor = await createFloatExecutor(graph);
  const progress = createProgress('eval', data.size);
  const logits: Float32Array[] = [];
  const labels: number[] = [];
  try {
    for await (const batch of data.batches(opts.batch)) {
      const out = executor.run({ [input]: { shape: [batch.count, ...sampleShape], data: batch.data } }).get(graph.outputs[0])!;
      const classes = out.data.length / batch.count;
      for (let i = 0; i < batch.count; i++) logits.push(out.data.subarray(i * classes, (i + 1) * classes));
      labels.push(...batch.labels!);
      progress.advance(batch.count);
    }
  } finally {
    executor.dispose();
  }
  progress.finish();
  return { model, data: opts.data, executor: `float (tfjs-${executor.backend})`, ...topKAccuracy(logits, labels), seconds: (performance.now() - start) / 1000 };
}

export function registerEval(program: Command): void {
  addDataOptions(program.command('eval').description('accuracy (top-1, top-5) of a model on labelled data').argument('<model>', '.onnx or .tflite model'))
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, opts: EvalOptions) => {
      const r = await evaluateFloat(model, opts);
      if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          `${r.model} on ${r.data} (${r.executor}): top-1 ${(100 * r.top1).toFixed(2)} %, top-5 ${(100 * r.top5).toFixed(2)} %, N=${r.count}, ${r.seconds.toFixed(1)} s\n`,
        );
    });
}
