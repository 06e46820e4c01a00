// compile: quantize (or take an already-quantized artefact: a .fq, an int8 .tflite the TFLite converter made) → the target's artefacts (model.fq, model.tflite when TFLite has a builtin for every node, and what the target builds) → run on the
// calibration inputs in the target's emulator → byte-compared with the integer runtime. The output folder is
// checked before any work and written whole at the end, so a failure leaves nothing partial and no user file is lost.
import { join } from 'node:path';
import { exportTflite } from '../export/tflite/index.js';
import { checkOutputFolder, writeOutputFolder } from '../output-folder.js';
import { checkpointPath, removeCheckpoint } from '../quant/checkpoint.js';
import { writeFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import { FlexqError, fail } from '../errors.js';
import { KERNEL_SETS, type CompileJob, type CompileReport, type KernelSet } from '../target.js';
import type { Dataset } from '../../calibration/index.js';
import { openData, readAllSamples, sampleShapeOf } from './data.js';
import { quantize, type QuantizeOptions } from './quantize.js';
import { openArtefact, quantizedGraphOf, requireQuantizedActivations } from './executors.js';
import { checkDeployable, compilerFor, deploysEveryNode } from './registry.js';

export interface CompileOptions extends Omit<QuantizeOptions, 'checkpoint'> {
  /** A compile target: 'cortex-m4', 'cortex-m7', 'cortex-m55', … (registry.compileTargets()). */
  readonly target: string;
  /** The output folder. */
  readonly output: string;
  /** Default 'optimized'. */
  readonly kernels?: KernelSet;
  /** Prove on N inputs; default all of the proof data. */
  readonly check?: number;
  /**
   * The data the build is proven on (same preprocessing as calib). Default: the samples of calib after the ones
   * calibration used; the calibration samples themselves when calibration used them all.
   */
  readonly checkData?: string;
  /** Write into a non-empty folder flexq did not write (only its own files are replaced). */
  readonly force?: boolean;
  /** Generated source: symbol prefix, example project (for the compile target's board). */
  readonly source?: CompileJob['source'];
}

export interface CompileResult {
  /** Every file written into the output folder. */
  readonly files: string[];
  /** What the proof ran on: the data path, the first sample's index in it, and whether calibration saw it. */
  readonly proof: { readonly data: string; readonly offset: number; readonly count: number; readonly calibrationData: boolean; readonly quantizedBefore: boolean };
  readonly report: CompileReport;
  /** The report as a person reads it. */
  readonly summary: string;
}

/** The proof inputs as one float array: checkData, or calib past what calibration used, or calib itself. */
async function proofInputs(q: QuantizedGraph, model: string, o: CompileOptions): Promise<Omit<CompileResult['proof'], 'quantizedBefore'> & { inputs: Float32Array }> {
  const sampleShape = sampleShapeOf(q.graph, model);
  const open = (data: string, labels: string | undefined, offset: number, limit: number | undefined) => openData(data, { ...o, labels, offset, limit }, sampleShape);
  const read = async (data: string, offset: number, set: Dataset, calibrationData: boolean) => ({ data, offset, count: set.size, calibrationData, inputs: await readAllSamples(set) });
  if (o.checkData !== undefined) return read(o.checkData, 0, await open(o.checkData, undefined, 0, o.check), false);
  const offset = o.offset ?? 0;
  const unseen = await open(o.calib, o.labels, offset + q.info.calibrationSamples, o.check).catch((e: unknown) => {
    // Calibration used every sample of calib: nothing is left to prove on but what it saw.
    if (e instanceof FlexqError && e.code === 'DATA_EMPTY') return undefined;
    throw e;
  });
  if (unseen) return read(o.calib, offset + q.info.calibrationSamples, unseen, false);
  const limit = Math.min(o.check ?? Infinity, q.info.calibrationSamples || Infinity);
  return read(o.calib, offset, await open(o.calib, o.labels, offset, Number.isFinite(limit) ? limit : undefined), true);
}

/**
 * The quantized graph of an artefact that is already quantized (.fq, or an int8 .tflite flexq imports with its own
 * scales, per-channel weights included): compiled as it is, without calibration. Undefined for a float model.
 */
function quantizedArtefact(model: string, o: CompileOptions): QuantizedGraph | undefined {
  const q = quantizedGraphOf(openArtefact(model, o.inputShape));
  if (!q) return undefined;
  requireQuantizedActivations(q, o.target);
  checkDeployable(q.graph, o.target);
  return q;
}

export async function compile(model: string, o: CompileOptions): Promise<CompileResult> {
  const compiler = compilerFor(o.target);
  const kernels = o.kernels ?? 'optimized';
  if (!KERNEL_SETS.includes(kernels)) fail('BAD_ARGUMENT', `kernels '${String(kernels)}': expected one of ${KERNEL_SETS.join(', ')}`);
  checkOutputFolder(o.output, { force: o.force });
  // The resume file sits beside the folder (OUT.resume), not in it: the folder holds only finished outputs.
  const resumeBase = o.output.replace(/\/+$/, '');
  const ready = quantizedArtefact(model, o);
  const q = ready ?? (await quantize(model, { ...o, checkpoint: checkpointPath(resumeBase) }));
  const { inputs, ...proven } = await proofInputs(q, model, o);
  const proof = { ...proven, quantizedBefore: ready !== undefined };
  const count = proof.count;
  let built: CompileReport | undefined;
  // The compile target may run ops TFLite has no builtin for (the C target's ConvTranspose, Resize): then no .tflite.
  const tflite = deploysEveryNode(q.graph, 'tflite');
  const files = await writeOutputFolder(o.output, async (staging) => {
    writeFq(join(staging, 'model.fq'), q);
    if (tflite) await exportTflite(q, join(staging, 'model.tflite'), { io: 'int8' });
    built = await compiler.compile({ q, outDir: staging, kernels, inputs, count, source: o.source });
  }, { force: o.force });
  if (!ready) removeCheckpoint(checkpointPath(resumeBase));
  const report = { ...built!, artefact: join(o.output, built!.artefact) };
  const seen = proof.quantizedBefore ? ' (the model came quantized: no calibration here)' : proof.calibrationData ? ' (calibration data: calibration used every sample)' : ', none of them seen by calibration';
  const provenOn = `  proven on    ${proof.count} samples of ${proof.data} from #${proof.offset}${seen}`;
  const noTflite = tflite ? '' : '\n  model.tflite not written: the TFLite export has no builtin for some of its ops (flexq quantize --target tflite lists them)';
  return { files, proof, report, summary: `${compiler.describe(report)}\n${provenOn}${noTflite}` };
}
