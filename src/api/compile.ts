// compile: quantize → the target's artefacts (model.fq, model.tflite, and what the target builds) → run on the
// calibration inputs in the target's emulator → byte-compared with the integer runtime. The output folder is
// checked before any work and written whole at the end, so a failure leaves nothing partial and no user file is lost.
import { join } from 'node:path';
import { exportTflite } from '../export/tflite/index.js';
import { checkOutputFolder, writeOutputFolder } from '../output-folder.js';
import { checkpointPath, removeCheckpoint } from '../quant/checkpoint.js';
import { writeFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { sizeOf } from '../ir/shape.js';
import { fail } from '../errors.js';
import { KERNEL_SETS, type CompileJob, type CompileReport, type KernelSet } from '../target.js';
import { openData, sampleShapeOf } from './data.js';
import { quantize, type QuantizeOptions } from './quantize.js';
import { compilerFor } from './registry.js';

export interface CompileOptions extends Omit<QuantizeOptions, 'checkpoint'> {
  /** A compile target: 'cortex-m4', 'cortex-m7', 'cortex-m55', … (registry.compileTargets()). */
  readonly target: string;
  /** The output folder. */
  readonly output: string;
  /** Default 'optimized'. */
  readonly kernels?: KernelSet;
  /** Prove on the first N calibration inputs; default all. */
  readonly check?: number;
  /** Write into a non-empty folder flexq did not write (only its own files are replaced). */
  readonly force?: boolean;
  /** Generated source: symbol prefix, example project (for the compile target's board). */
  readonly source?: CompileJob['source'];
}

export interface CompileResult {
  /** Every file written into the output folder. */
  readonly files: string[];
  readonly report: CompileReport;
  /** The report as a person reads it. */
  readonly summary: string;
}

/** The first `check` calibration inputs as one float array. */
async function proofInputs(q: QuantizedGraph, model: string, o: CompileOptions): Promise<{ inputs: Float32Array; count: number }> {
  const sampleShape = sampleShapeOf(q.graph, model);
  const limit = o.check === undefined ? o.limit : Math.min(o.check, o.limit ?? Infinity);
  const data = await openData(o.calib, { ...o, limit }, sampleShape);
  const inputs = new Float32Array(data.size * sizeOf(sampleShape));
  let at = 0;
  for await (const batch of data.batches(256)) {
    inputs.set(batch.data, at);
    at += batch.data.length;
  }
  return { inputs, count: data.size };
}

export async function compile(model: string, o: CompileOptions): Promise<CompileResult> {
  const compiler = compilerFor(o.target);
  const kernels = o.kernels ?? 'optimized';
  if (!KERNEL_SETS.includes(kernels)) fail('BAD_ARGUMENT', `kernels '${String(kernels)}': expected one of ${KERNEL_SETS.join(', ')}`);
  checkOutputFolder(o.output, { force: o.force });
  // The resume file sits beside the folder (OUT.resume), not in it: the folder holds only finished outputs.
  const resumeBase = o.output.replace(/\/+$/, '');
  const q = await quantize(model, { ...o, checkpoint: checkpointPath(resumeBase) });
  const { inputs, count } = await proofInputs(q, model, o);
  let built: CompileReport | undefined;
  const files = await writeOutputFolder(o.output, async (staging) => {
    writeFq(join(staging, 'model.fq'), q);
    await exportTflite(q, join(staging, 'model.tflite'), { io: 'int8' });
    built = await compiler.compile({ q, outDir: staging, kernels, inputs, count, source: o.source });
  }, { force: o.force });
  removeCheckpoint(checkpointPath(resumeBase));
  const report = { ...built!, artefact: join(o.output, built!.artefact) };
  return { files, report, summary: compiler.describe(report) };
}
