// validateArtefacts: one float model against several integer artefacts at once (flexq's .fq files and int8 models
// other tools made, such as the TFLite converter's), each in the executors asked for, on the same data: accuracy,
// top-1 agreement with float, output SQNR and cosine, and how many output values differ between each pair.
// Per-layer comparisons need the float model's own value names and stay with validate (one .fq).
import { fail } from '../errors.js';
import { sizeOf } from '../ir/shape.js';
import { loadModel } from '../load-model.js';
import { AgreementAccumulator, argmaxRows, type AgreementStats } from '../metrics.js';
import type { RequantMode } from '../quant/requant-mode.js';
import type { BatchExecutor } from '../target.js';
import { DEFAULT_BATCH, openData, sampleShapeOf, type DataOptions } from './data.js';
import { checkMode, defaultExecutor, floatExecutor, openArtefact, type Artefact } from './executors.js';
import { silentProgress, type JobHooks } from './progress.js';

export interface ValidateArtefactsOptions extends DataOptions, JobHooks {
  readonly data: string;
  /** Executors per artefact; default: each artefact's default (the runtime; ort-node for an integer .onnx), plus litert for an int8 .tflite. */
  readonly executors?: readonly string[];
  /** Mode of the integer runtime; default tflite-xnnpack (LiteRT's arithmetic on the XNNPACK delegate). */
  readonly mode?: RequantMode;
}

export interface ArtefactExecutorReport {
  readonly artefact: string;
  readonly executor: string;
  readonly top1?: number;
  /** Fraction of samples whose top-1 class equals the float model's. */
  readonly top1Agreement: number;
  readonly output: AgreementStats;
}

export interface ValidateArtefactsReport {
  readonly model: string;
  readonly artefacts: readonly string[];
  readonly data: string;
  readonly count: number;
  readonly floatTop1?: number;
  readonly executors: ArtefactExecutorReport[];
  /** Output values that differ between each pair of executors ("artefact: executor"), 0 = the same integers. */
  readonly mismatches: Record<string, Record<string, number>>;
}

/** The executors asked for an artefact: the given names, else its default plus its own runtime when it has one. */
function executorNamesFor(a: Artefact, o: ValidateArtefactsOptions): (string | undefined)[] {
  if (o.executors) return [...o.executors];
  return a.kind === 'foreign' && a.foreign.format === 'tflite' ? ['litert', undefined] : [undefined];
}

/** Compares every artefact with the float model it stands for, on `o.data`. */
export async function validateArtefacts(modelPath: string, artefactPaths: readonly string[], o: ValidateArtefactsOptions): Promise<ValidateArtefactsReport> {
  if (artefactPaths.length === 0) fail('BAD_ARGUMENT', 'validate needs at least one artefact to compare with the float model');
  const { graph } = loadModel(modelPath, { inputShape: o.inputShape });
  const sampleShape = sampleShapeOf(graph, modelPath);
  const classes = sizeOf(graph.values.get(graph.outputs[0])!.shape.slice(1) as number[]);
  const mode = checkMode(o.mode ?? 'tflite-xnnpack');
  const reference = await floatExecutor(graph);
  const tested: { artefact: string; executor: BatchExecutor }[] = [];
  try {
    for (const path of artefactPaths) {
      const a = openArtefact(path, o.inputShape);
      for (const name of executorNamesFor(a, o)) {
        const executor = await defaultExecutor(a, name, { mode });
        tested.push({ artefact: path, executor });
        const shape = executor.graph.values.get(executor.graph.inputs[0])!.shape.slice(1);
        const outputs = sizeOf(executor.graph.values.get(executor.graph.outputs[0])!.shape.slice(1) as number[]);
        if (shape.join() !== sampleShape.join() || outputs !== classes)
          fail('BAD_ARGUMENT', `${path} takes [N,${shape.join(',')}] and gives ${outputs} outputs, but ${modelPath} takes [N,${sampleShape.join(',')}] and gives ${classes}: give the float model it stands for`);
      }
    }
    return await compare(modelPath, artefactPaths, reference, tested, sampleShape, o);
  } finally {
    await reference.dispose();
    for (const t of tested) await t.executor.dispose();
  }
}

async function compare(
  modelPath: string,
  artefacts: readonly string[],
  reference: BatchExecutor,
  tested: readonly { artefact: string; executor: BatchExecutor }[],
  sampleShape: readonly number[],
  o: ValidateArtefactsOptions,
): Promise<ValidateArtefactsReport> {
  const data = await openData(o.data, o, sampleShape);
  const stats = tested.map(() => new AgreementAccumulator());
  const agree = tested.map(() => 0);
  const correct = [0, ...tested.map(() => 0)];
  const mismatch = tested.map(() => tested.map(() => 0));
  const progress = (o.progress ?? silentProgress)('validate', data.size);
  for await (const batch of data.batches(o.batch ?? DEFAULT_BATCH)) {
    const input = { shape: [batch.count, ...sampleShape], data: batch.data };
    const ref = (await reference.run(input)).get(reference.graph.outputs[0])!.data;
    const refTop = argmaxRows(ref, batch.count);
    const outs: Float32Array[] = [];
    for (const { executor } of tested) outs.push((await executor.run(input)).get(executor.graph.outputs[0])!.data);
    const tops = outs.map((out) => argmaxRows(out, batch.count));
    outs.forEach((out, k) => {
      stats[k].add(ref, out);
      agree[k] += tops[k].filter((c, i) => c === refTop[i]).length;
      outs.forEach((other, j) => (mismatch[k][j] += out.filter((x, i) => x !== other[i]).length));
    });
    if (batch.labels) [refTop, ...tops].forEach((top, k) => (correct[k] += top.filter((c, i) => c === batch.labels![i]).length));
    progress.advance(batch.count);
  }
  progress.finish();
  const label = (k: number) => `${tested[k].artefact}: ${tested[k].executor.name}`;
  return {
    model: modelPath,
    artefacts,
    data: o.data,
    count: data.size,
    ...(data.labeled ? { floatTop1: correct[0] / data.size } : {}),
    executors: tested.map((t, k) => ({
      artefact: t.artefact,
      executor: t.executor.name,
      ...(data.labeled ? { top1: correct[k + 1] / data.size } : {}),
      top1Agreement: agree[k] / data.size,
      output: stats[k].stats(),
    })),
    mismatches: Object.fromEntries(tested.map((_, k) => [label(k), Object.fromEntries(tested.map((__, j) => [label(j), mismatch[k][j]]))])),
  };
}
