// evaluate: top-1/top-5 of a model (float executor) or an .fq (integer runtime, any executor) on labelled data.
import { fail } from '../errors.js';
import { topKAccuracy, type Accuracy } from '../metrics.js';
import type { RequantMode } from '../quant/requant-mode.js';
import { DEFAULT_BATCH, openData, sampleShapeOf, type DataOptions } from './data.js';
import { checkMode, defaultExecutor, openArtefact } from './executors.js';
import { silentProgress, type JobHooks } from './progress.js';

export interface EvaluateOptions extends DataOptions, JobHooks {
  /** Labelled data: an ImageFolder, or a .npy file with `labels`. */
  readonly data: string;
  /** Default: runtime for an .fq with quantized activations, else float. */
  readonly executor?: string;
  /** Requantization mode of the integer runtime; default 'tflite-double'. */
  readonly mode?: RequantMode;
}

export interface EvalReport extends Accuracy {
  readonly model: string;
  readonly data: string;
  readonly executor: string;
  readonly seconds: number;
}

export async function evaluate(path: string, o: EvaluateOptions): Promise<EvalReport> {
  const start = performance.now();
  const artefact = openArtefact(path, o.inputShape);
  const executor = await defaultExecutor(artefact, o.executor, { mode: checkMode(o.mode ?? 'tflite-double') });
  try {
    const sampleShape = sampleShapeOf(executor.graph, path);
    const data = await openData(o.data, o, sampleShape);
    if (!data.labeled) fail('BAD_ARGUMENT', `${o.data}: evaluation needs labels; give a labels .npy (--labels) for .npy data`);
    const progress = (o.progress ?? silentProgress)('eval', data.size);
    const logits: Float32Array[] = [];
    const labels: number[] = [];
    for await (const batch of data.batches(o.batch ?? DEFAULT_BATCH)) {
      const out = (await executor.run({ shape: [batch.count, ...sampleShape], data: batch.data })).get(executor.graph.outputs[0])!;
      const classes = out.data.length / batch.count;
      for (let i = 0; i < batch.count; i++) logits.push(out.data.subarray(i * classes, (i + 1) * classes));
      labels.push(...batch.labels!);
      progress.advance(batch.count);
    }
    progress.finish();
    return { model: path, data: o.data, executor: executor.name, ...topKAccuracy(logits, labels), seconds: (performance.now() - start) / 1000 };
  } finally {
    await executor.dispose();
  }
}
