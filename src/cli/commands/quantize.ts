import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openDataset, type Dataset } from '../../../calibration/index.js';
import { OBSERVERS, type ObserverKind } from '../../../calibration/observers.js';
import { fail } from '../../errors.js';
import type { TensorBackend } from '../../backend/backend.js';
import { BACKEND_KINDS, openBackend, type BackendKind } from '../../backend/select.js';
import { createFloatExecutor } from '../../exec/float-executor.js';
import { sizeOf } from '../../ir/shape.js';
import { loadModel } from '../../load-model.js';
import { calibrateActivations } from '../../quant/calibrate.js';
import type { Granularity } from '../../quant/blocks.js';
import { checkpointPath, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../../quant/checkpoint.js';
import { writeFq } from '../../quant/fq-file.js';
import type { ActivationQuant, QuantInfo, QuantizedGraph, QuantMethod } from '../../quant/quantized-graph.js';
import { ROUNDING_METHODS, reconstruct, type CalibrationSet, type ReconstructionOptions, type RoundingMethod } from '../../quant/reconstruct.js';
import type { Setting } from '../../quant/unit-trainer.js';
import { assembleQuantizedGraph, quantizeRtn, rtnWeights } from '../../quant/rtn.js';
import { FLEXQ_VERSION } from '../../version.js';
import { parseCount, parseInputShape } from '../options.js';
import { createProgress, type Progress } from '../progress.js';
import { addDataOptions, sampleShapeOf, type DataOptions } from './eval.js';

export interface QuantizeOptions extends DataOptions {
  calib: string;
  output: string;
  method: string;
  wbits: number;
  abits: number;
  seed: number;
  observer: ObserverKind;
  /** Reconstruction (flexround, adaround, adaquant) only. */
  granularity?: string;
  setting?: string;
  iters?: number;
  lr?: number;
  samples?: number;
  backend?: string;
  resume?: boolean;
  json?: boolean;
}

const METHODS = ['rtn', ...Object.keys(ROUNDING_METHODS)];
const WBITS = [8, 4, 3, 2];
const ABITS = [8, 4, 32];
const GRANULARITIES: Granularity[] = ['layer', 'block'];
const SETTINGS: Setting[] = ['brecq', 'qdrop'];
/** Iterations per unit when --iters is not given (the paper's 5k per block is GPU work; this is CPU-sized). */
const DEFAULT_ITERATIONS = 1000;

function checkOptions(o: QuantizeOptions): void {
  const oneOf = (flag: string, value: unknown, allowed: readonly unknown[]) => {
    if (!allowed.includes(value)) fail('BAD_ARGUMENT', `${flag} ${value}: expected one of ${allowed.join(', ')}`);
  };
  oneOf('--method', o.method, METHODS);
  oneOf('--wbits', o.wbits, WBITS);
  if (!ABITS.includes(o.abits)) fail('BAD_ARGUMENT', `--abits ${o.abits}: expected one of ${ABITS.join(', ')} (32 keeps activations float)`);
  oneOf('--observer', o.observer, Object.keys(OBSERVERS));
  oneOf('--granularity', o.granularity ?? 'layer', GRANULARITIES);
  oneOf('--setting', o.setting ?? 'brecq', SETTINGS);
  oneOf('--backend', o.backend ?? 'auto', BACKEND_KINDS);
  if (o.lr !== undefined && !(o.lr > 0 && o.lr < 1)) fail('BAD_ARGUMENT', `--lr ${o.lr}: expected a learning rate in (0, 1), e.g. 4e-4`);
}

/**
 * Adam moves a parameter by at most about lr per step, so lr × iterations bounds how far a rounding can travel.
 * The papers' rates assume their budgets (FlexRound 4e-4 at 3/4 bits, 1e-3 at 2 bits, with 5k iterations; BRECQ's
 * AdaRound 1e-3 with 20k); for fewer iterations the rate rises so that FlexRound's log-divisors can still travel ~1
 * and AdaRound's V ~3 (enough to reach a hard 0/1). Measured on ResNet-8, 300 iterations: FlexRound W3 81.0 % at
 * 4e-4 vs 85.5 % at 3.3e-3; AdaRound W2 15.0 % at 1e-3 (no better than RTN) vs 67.0 % at 1e-2.
 */
function defaultLearningRate(method: RoundingMethod, wbits: number, iterations: number): number {
  if (method === 'flexround') return Math.max(wbits <= 2 ? 1e-3 : 4e-4, 1 / iterations);
  return method === 'adaround' ? Math.max(1e-3, 3 / iterations) : 1e-4;
}

/** Every calibration sample in one [count, ...sampleShape] array (reconstruction draws batches from it). */
async function loadCalibration(data: Dataset): Promise<CalibrationSet> {
  const per = sizeOf(data.sampleShape);
  const all = new Float32Array(data.size * per);
  let count = 0;
  for await (const batch of data.batches(256)) {
    all.set(batch.data, count * per);
    count += batch.count;
  }
  return { count, data: all };
}

/** Identifies a run for --resume: the model's bytes and every option that changes the result. */
function runFingerprint(model: string, o: QuantizeOptions, settings: ReconstructionOptions): string {
  const { calib, labels, preprocess, layout, limit, offset, inputShape, samples, wbits, abits, observer } = o;
  return createHash('sha256')
    .update(readFileSync(model))
    .update(JSON.stringify({ calib, labels, preprocess, layout, limit, offset, inputShape, samples, wbits, abits, observer, settings }))
    .digest('hex');
}

/** Quantizes a model: calibrate activation grids on the float model, then round (RTN) or learn the rounding. */
export async function quantizeModel(model: string, o: QuantizeOptions): Promise<QuantizedGraph> {
  checkOptions(o);
  // Opened first, so a backend that cannot start (no GPU adapter) fails before minutes of calibration.
  const backend = o.method === 'rtn' ? undefined : await openBackend((o.backend ?? 'auto') as BackendKind);
  try {
    return await quantizeOn(backend, model, o);
  } finally {
    await backend?.dispose();
  }
}

async function quantizeOn(backend: TensorBackend | undefined, model: string, o: QuantizeOptions): Promise<QuantizedGraph> {
  const { graph } = loadModel(model, { inputShape: parseInputShape(o.inputShape) });
  const sampleShape = sampleShapeOf(graph, model);
  const limit = o.samples !== undefined ? Math.min(o.samples, o.limit ?? Infinity) : o.limit;
  const data = await openDataset({ path: o.calib, labels: o.labels, preprocess: o.preprocess, layout: o.layout, limit, offset: o.offset, sampleShape });
  let activations = new Map<string, ActivationQuant>();
  if (o.abits < 32) {
    const executor = await createFloatExecutor(graph);
    const progress = createProgress('calibrate', data.size);
    try {
      activations = await calibrateActivations(graph, executor, data, OBSERVERS[o.observer], o.abits, o.batch, progress);
    } finally {
      executor.dispose();
    }
    progress.finish();
  }
  const rtnOptions = { wbits: o.wbits, edgeBits: 8 };
  const info: QuantInfo = {
    flexqVersion: FLEXQ_VERSION,
    method: o.method as QuantMethod,
    wbits: o.wbits,
    abits: o.abits,
    seed: o.seed,
    model,
    calibrationSamples: o.method !== 'rtn' || o.abits < 32 ? data.size : 0,
  };
  if (!backend) return quantizeRtn(graph, activations, rtnOptions, info);

  const method = o.method as RoundingMethod;
  const settings: ReconstructionOptions = {
    method,
    granularity: (o.granularity ?? 'layer') as Granularity,
    setting: (o.setting ?? 'brecq') as Setting,
    iterations: o.iters ?? DEFAULT_ITERATIONS,
    lr: o.lr ?? defaultLearningRate(method, o.wbits, o.iters ?? DEFAULT_ITERATIONS),
    batch: o.batch,
    seed: o.seed,
  };
  const calib = await loadCalibration(data);
  const resumeFile = checkpointPath(o.output);
  const fingerprint = runFingerprint(model, o, settings);
  const resume = o.resume ? readCheckpoint(resumeFile, fingerprint) : undefined;
  process.stderr.write(
    `${method}: ${settings.granularity}-wise, ${settings.setting} setting, ${settings.iterations} iterations per unit, lr ${settings.lr}, batch ${settings.batch}, ${calib.count} samples, backend ${backend.name}${backend.device ? ` on ${backend.device}` : ''}` +
      (resume ? `, resuming after ${resume.unitsDone} units` : '') + '\n',
  );
  let progress: Progress | undefined;
  const result = await reconstruct(graph, rtnWeights(graph, rtnOptions), activations, calib, backend, settings, {
    resume,
    start: (units) => {
      progress = createProgress(method, (units.length - (resume?.unitsDone ?? 0)) * settings.iterations);
    },
    iteration: () => progress!.advance(1),
    unitDone: (c) => writeCheckpoint(resumeFile, fingerprint, c),
  });
  progress?.finish();
  return assembleQuantizedGraph(graph, o.abits < 32 ? result.activations : activations, result.weights, info);
}

/** The options of quantization, shared by `quantize` and `compile` (which quantizes first). */
export function addQuantizeOptions(cmd: Command): Command {
  return cmd
    .option('--method <method>', 'rtn | flexround | adaround | adaquant', 'rtn')
    .option('--wbits <bits>', 'weight bits: 8 | 4 | 3 | 2 (first and last layer stay 8)', parseCount('--wbits', 2), 8)
    .option('--abits <bits>', 'activation bits: 8 | 4 | 32 (float)', parseCount('--abits', 2), 8)
    .option('--observer <kind>', 'activation range: minmax | mse | percentile', 'minmax')
    .option('--seed <n>', 'seed of every random choice', parseCount('--seed'), 0)
    .option('--granularity <unit>', 'reconstruct layer by layer, or block by block (residual blocks, separable pairs)', 'layer')
    .option('--setting <setting>', 'brecq (quantized inputs) | qdrop (activation quantization dropped with p = 0.5)', 'brecq')
    .option('--iters <n>', `iterations per layer/block (default ${DEFAULT_ITERATIONS})`, parseCount('--iters', 1))
    .option('--lr <x>', 'Adam learning rate of every learned parameter (default: the paper\'s for the method and bits)', parseFloat)
    .option('--samples <n>', 'calibration samples to use (default: all of --calib after --offset/--limit)', parseCount('--samples', 1))
    .option('--backend <kind>', `tensor backend for reconstruction: ${BACKEND_KINDS.join(' | ')}`, 'auto')
    .option('--resume', 'continue an interrupted reconstruction from OUTPUT.resume');
}

export function registerQuantize(program: Command): void {
  addQuantizeOptions(addDataOptions(program.command('quantize').description('quantize a model after training and write the QuantizedGraph (.fq)').argument('<model>', '.onnx or .tflite model'), '--calib'))
    .requiredOption('-o, --output <file>', 'the .fq file to write')
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, o: QuantizeOptions) => {
      const start = performance.now();
      const q = await quantizeModel(model, o);
      writeFq(o.output, q);
      removeCheckpoint(checkpointPath(o.output));
      const summary = {
        output: o.output,
        ...q.info,
        layers: q.weights.size,
        activations: q.activations.size,
        seconds: (performance.now() - start) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stdout.write(`wrote ${o.output}: ${q.info.method} W${q.info.wbits}A${q.info.abits}, ${summary.layers} weighted layers, ${summary.activations} activation grids, ${summary.seconds.toFixed(1)} s\n`);
    });
}
