// run: an artefact on data with one executor: the first output of every sample and its top-5.
import { fail } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { ActivationQuant } from '../ir/quantized-graph.js';
import type { RequantMode } from '../quant/requant-mode.js';
import { DEFAULT_BATCH, openData, sampleShapeOf, type DataOptions } from './data.js';
import { checkMode, defaultExecutor, openArtefact, quantizedGraphOf, type Artefact } from './executors.js';
import { encodeNpyFloat32, encodeNpyInt8 } from './npy.js';
import { silentProgress, type JobHooks } from './progress.js';

export interface RunOptions extends DataOptions, JobHooks {
  readonly data: string;
  /** Default: runtime for an .fq with quantized activations, else float. */
  readonly executor?: string;
  /** Default 'tflite-double'. */
  readonly mode?: RequantMode;
  /** Write the outputs as a float32 .npy [N, ...]. */
  readonly output?: string;
  /** Write the integer output tensors (int8 .npy, the .fq's output grid) instead of dequantized floats. */
  readonly raw?: boolean;
}

export interface SampleResult {
  readonly index: number;
  readonly label?: number;
  /** Class indices of the five highest outputs, best first (ties: lower index first). */
  readonly top5: number[];
  readonly scores: number[];
}

export interface RunReport {
  readonly artefact: string;
  readonly data: string;
  readonly executor: string;
  readonly outputShape: number[];
  readonly samples: SampleResult[];
  readonly output?: string;
}

/** The k largest entries of a row, best first; ties go to the lower index, as flexq's metrics break them. */
function topK(row: Float32Array, k: number): number[] {
  return Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
}

/**
 * The integers behind dequantized outputs: every executor returns (q − z)·s computed in float32, and
 * round(y/s) + z recovers q exactly (the float error is below 2^-16 of a step for |q − z| ≤ 255).
 */
function requantizeOutput(y: Float32Array, grid: ActivationQuant): Int8Array {
  return Int8Array.from(y, (v) => Math.round(v / grid.scale) + grid.zeroPoint);
}

/** The output grid when `raw` integers are asked for; an error when the artefact has none. */
function rawGrid(path: string, artefact: Artefact, o: RunOptions): ActivationQuant | undefined {
  if (!o.raw) return undefined;
  const q = quantizedGraphOf(artefact);
  const grid = q?.activations.get(q.graph.outputs[0]);
  if (!grid) fail('BAD_ARGUMENT', `${path}: raw integer outputs need an .fq with quantized activations or an int8 model (this is ${q ? 'a weights-only .fq' : 'a float model'})`);
  if (o.output === undefined) fail('BAD_ARGUMENT', 'raw outputs are written to the output .npy: give an output path (-o)');
  return grid;
}

export async function run(path: string, o: RunOptions): Promise<RunReport> {
  const artefact = openArtefact(path, o.inputShape);
  const raw = rawGrid(path, artefact, o);
  const executor = await defaultExecutor(artefact, o.executor, { mode: checkMode(o.mode ?? 'tflite-double') });
  const rows: Float32Array[] = [];
  const samples: SampleResult[] = [];
  let outputShape: number[] = [];
  try {
    const sampleShape = sampleShapeOf(executor.graph, path);
    const data = await openData(o.data, o, sampleShape);
    const output = executor.graph.outputs[0];
    const progress = (o.progress ?? silentProgress)('run', data.size);
    for await (const batch of data.batches(o.batch ?? DEFAULT_BATCH)) {
      const y = (await executor.run({ shape: [batch.count, ...sampleShape], data: batch.data })).get(output)!;
      outputShape = y.shape.slice(1);
      const per = y.data.length / batch.count;
      for (let i = 0; i < batch.count; i++) {
        const row = y.data.slice(i * per, (i + 1) * per);
        rows.push(row);
        const label = batch.labels?.[i];
        samples.push({ index: samples.length, ...(label !== undefined ? { label } : {}), top5: topK(row, Math.min(5, per)), scores: Array.from(row) });
      }
      progress.advance(batch.count);
    }
    progress.finish();
  } finally {
    await executor.dispose();
  }
  if (o.output) {
    const all = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
    rows.reduce((at, r) => (all.set(r, at), at + r.length), 0);
    const shape = [rows.length, ...outputShape];
    writeFileAtomic(o.output, raw ? encodeNpyInt8(shape, requantizeOutput(all, raw)) : encodeNpyFloat32(shape, all));
  }
  return { artefact: path, data: o.data, executor: executor.name, outputShape: [rows.length, ...outputShape], samples, ...(o.output ? { output: o.output } : {}) };
}
