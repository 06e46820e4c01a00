import { REQUANT_MODES } from '../../../runtime/requant/index.js';
import type { Command } from 'commander';
import { openDataset } from '../../../calibration/index.js';
import { writeFileAtomic } from '../../fs-atomic.js';
import { defaultExecutor, executorNames, openArtefact, parseMode } from '../executors.js';
import { createProgress } from '../progress.js';
import { addDataOptions, sampleShapeOf, type DataOptions } from './eval.js';

interface RunOptions extends DataOptions { data: string; executor?: string; mode: string; output?: string; json?: boolean }

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

/** A float32 array as a NumPy .npy (format 1.0, little-endian, C order). */
export function encodeNpyFloat32(shape: readonly number[], data: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Runs an artefact on DATA with one executor: the first output of every sample, and its top-5. */
export async function runArtefact(path: string, o: RunOptions): Promise<RunReport> {
  const artefact = openArtefact(path, o.inputShape);
  const executor = await defaultExecutor(artefact, o.executor, { mode: parseMode(o.mode) });
  const sampleShape = sampleShapeOf(executor.graph, path);
  const data = await openDataset({ path: o.data, labels: o.labels, preprocess: o.preprocess, layout: o.layout, limit: o.limit, offset: o.offset, sampleShape });
  const output = executor.graph.outputs[0];
  const rows: Float32Array[] = [];
  const samples: SampleResult[] = [];
  let outputShape: number[] = [];
  const progress = createProgress('run', data.size);
  try {
    for await (const batch of data.batches(o.batch)) {
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
  } finally {
    await executor.dispose();
  }
  progress.finish();
  if (o.output) {
    const all = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
    rows.reduce((at, r) => (all.set(r, at), at + r.length), 0);
    writeFileAtomic(o.output, encodeNpyFloat32([rows.length, ...outputShape], all));
  }
  return { artefact: path, data: o.data, executor: executor.name, outputShape: [rows.length, ...outputShape], samples, ...(o.output ? { output: o.output } : {}) };
}

export function registerRun(program: Command): void {
  addDataOptions(program.command('run').description('run a model or quantized graph with one executor: outputs (.npy) and top-5 per sample').argument('<artefact>', '.onnx, .tflite or .fq'))
    .option('--executor <kind>', `${executorNames().join(' | ')} (default: runtime for an .fq with quantized activations, else float)`)
    .option('--mode <mode>', `requantization mode of the integer runtime: ${REQUANT_MODES.join(' | ')}`, 'tflite-double')
    .option('-o, --output <file>', 'write the outputs as a float32 .npy [N, ...]')
    .option('--json', 'one JSON object on stdout')
    .action(async (path: string, o: RunOptions) => {
      const r = await runArtefact(path, o);
      if (o.json) return void process.stdout.write(JSON.stringify(r) + '\n');
      const lines = [`${r.artefact} on ${r.data} (${r.executor}): ${r.samples.length} samples, output [${r.outputShape.join(',')}]${r.output ? `, wrote ${r.output}` : ''}`];
      for (const s of r.samples)
        lines.push(`  ${String(s.index).padStart(5)}${s.label !== undefined ? ` label ${String(s.label).padStart(4)}` : ''}  top-5 ${s.top5.map((k) => `${k} (${s.scores[k].toPrecision(4)})`).join(', ')}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
