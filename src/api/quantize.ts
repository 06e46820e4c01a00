// quantize: calibrate activation grids on the float model, then round the weights to nearest (RTN) or learn the
// rounding (FlexRound, AdaRound, AdaQuant) layer by layer or block by block, with an optional resume file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OBSERVER_KINDS, OBSERVERS, type ObserverKind } from '../../calibration/observers.js';
import type { TensorBackend } from '../backend/backend.js';
import { BACKEND_KINDS, openBackend, type BackendKind } from '../backend/select.js';
import { fail } from '../errors.js';
import { createFloatExecutor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import { weightedLayers } from '../quant/layers.js';
import { loadModel } from '../load-model.js';
import { globalizeAveragePool } from '../passes/globalize-average-pool.js';
import type { Granularity } from '../quant/blocks.js';
import { correctBiases, layerInputMeans } from '../quant/bias-correction.js';
import { equalizeChannels } from '../quant/equalize-channels.js';
import { calibrateActivations, type SampleBatches } from '../quant/calibrate.js';
import { readCheckpoint, writeCheckpoint } from '../quant/checkpoint.js';
import type { ActivationQuant, QuantInfo, QuantizedGraph, QuantizedWeight, QuantMethod } from '../ir/quantized-graph.js';
import { flexRoundRateAt } from '../quant/flexround.js';
import { checkReconstructionSupported, ROUNDING_METHODS, reconstruct, type CalibrationSet, type ReconstructionOptions, type RoundingMethod } from '../quant/reconstruct.js';
import { assembleQuantizedGraph, rtnWeights, WEIGHT_SCALES, type WeightScales } from '../quant/rtn.js';
import { cappedWeightBits, WEIGHT_RANGES, type WeightRange } from '../quant/schemes.js';
import { LR_SCHEDULES, type LrSchedule } from '../quant/lr-schedule.js';
import type { Setting } from '../quant/unit-trainer.js';
import { FLEXQ_VERSION } from '../version.js';
import { DEFAULT_BATCH, openData, readAllSamples, sampleShapeOf, type DataOptions } from './data.js';
import { silentProgress, type JobHooks, type Progress } from './progress.js';
import { checkDeployable } from './registry.js';

export type WeightBits = 8 | 4 | 3 | 2;
/** 32 keeps activations float (weights-only quantization). */
export type ActivationBits = 8 | 4 | 32;

export interface QuantizeOptions extends DataOptions, JobHooks {
  /** Calibration data: an ImageFolder or a .npy file. */
  readonly calib: string;
  /** Default 'rtn'. */
  readonly method?: QuantMethod;
  /** Default 8; the first and last layer stay 8-bit. */
  readonly wbits?: WeightBits;
  /** Default 8. */
  readonly abits?: ActivationBits;
  /** Bits per weighted layer by node name (a bit plan, validate --suggest-bits); layers it leaves out take wbits. */
  readonly layerBits?: ReadonlyMap<string, WeightBits>;
  /** 'int7' caps weights at [−64, 63] (what onnxruntime-node's u8s8 kernels take exactly); default 'int8'. */
  readonly weightRange?: WeightRange;
  /** 'per-channel': one weight scale per output channel of every Conv and transB Gemm (RTN and FlexRound); default 'per-tensor'. */
  readonly weightScales?: WeightScales;
  /** Rescale convolution channels so each fills its activation grid (equalize-channels.ts; per-channel weights only); default false. */
  readonly equalize?: boolean;
  /** Fold each convolution's rounding-induced output mean shift back into its bias (bias-correction.ts; method rtn only); default false. */
  readonly biasCorrection?: boolean;
  /** Activation range observer; default 'minmax'. */
  readonly observer?: ObserverKind;
  /** Seed of every random choice; default 0. */
  readonly seed?: number;
  /** Reconstruction only: 'layer' or 'block' (residual blocks, separable pairs); default DEFAULT_GRANULARITY. */
  readonly granularity?: Granularity;
  /** Reconstruction only: 'brecq' (default) or 'qdrop'. */
  readonly setting?: Setting;
  /** Iterations per layer/block; default DEFAULT_ITERATIONS. */
  readonly iters?: number;
  /** Adam learning rate; default: the paper's for the method and bits, raised for short budgets. */
  readonly lr?: number;
  /** How the learning rate moves over a unit's iterations; default DEFAULT_LR_SCHEDULE. */
  readonly lrSchedule?: LrSchedule;
  /** Calibration samples to use; default all. */
  readonly samples?: number;
  /** Tensor backend of reconstruction; default 'auto'. */
  readonly backend?: BackendKind;
  /** A resume file written after every unit (the CLI uses OUTPUT.resume); with `resume`, a run continues from it. */
  readonly checkpoint?: string;
  readonly resume?: boolean;
  /** A deployment target (registry.deploymentTargets()): every node is checked to be deployable on it before calibration. */
  readonly target?: string;
}

export const QUANT_METHODS: readonly QuantMethod[] = ['rtn', ...(Object.keys(ROUNDING_METHODS) as RoundingMethod[])];
export const WEIGHT_BITS: readonly WeightBits[] = [8, 4, 3, 2];
export const ACTIVATION_BITS: readonly ActivationBits[] = [8, 4, 32];
export const GRANULARITIES: readonly Granularity[] = ['layer', 'block'];
/** Block by block: on par with layer by layer on ResNet-8 and DS-CNN (W4/W3/W2, three seeds), a point better on MobileNetV2. */
export const DEFAULT_GRANULARITY: Granularity = 'block';
export const SETTINGS: readonly Setting[] = ['brecq', 'qdrop'];
/** Iterations per unit when none are given (the paper's 5k per block is GPU work; this is CPU-sized). */
export const DEFAULT_ITERATIONS = 1000;
export const DEFAULT_LR_SCHEDULE: LrSchedule = 'constant';

/** The options with every default filled in: what a run (and its resume fingerprint) is made of. */
interface Settled {
  readonly method: QuantMethod;
  readonly wbits: WeightBits;
  readonly abits: ActivationBits;
  readonly observer: ObserverKind;
  readonly seed: number;
  readonly batch: number;
}

function settle(o: QuantizeOptions): Settled {
  const s = { method: o.method ?? 'rtn', wbits: o.wbits ?? 8, abits: o.abits ?? 8, observer: o.observer ?? 'minmax', seed: o.seed ?? 0, batch: o.batch ?? DEFAULT_BATCH };
  const oneOf = (name: string, value: unknown, allowed: readonly unknown[], hint = '') => {
    if (!allowed.includes(value)) fail('BAD_ARGUMENT', `${name} ${String(value)}: expected one of ${allowed.join(', ')}${hint}`);
  };
  oneOf('method', s.method, QUANT_METHODS);
  oneOf('wbits', s.wbits, WEIGHT_BITS);
  oneOf('abits', s.abits, ACTIVATION_BITS, ' (32 keeps activations float)');
  oneOf('weightRange', o.weightRange ?? 'int8', WEIGHT_RANGES);
  oneOf('weightScales', o.weightScales ?? 'per-tensor', WEIGHT_SCALES);
  // FlexRound learns a per-channel grid as it learns a per-tensor one; AdaRound and AdaQuant keep one grid per layer.
  if (o.weightScales === 'per-channel' && s.method !== 'rtn' && s.method !== 'flexround')
    fail('BAD_ARGUMENT', `per-channel weights support methods rtn and flexround, not ${s.method}; drop --per-channel or use --method flexround`);
  // Reconstruction has learned each rounding against the float outputs, undoing upstream error on purpose; a
  // correction from float input means undoes that (MobileNetV2 W4A32 FlexRound block-wise: 77.2 → 63.4 % top-1).
  if (o.biasCorrection && s.method !== 'rtn')
    fail('BAD_ARGUMENT', `bias correction corrects round-to-nearest; ${s.method} learns its rounding against the float model's outputs already, and the correction would undo it; drop --bias-correction or use --method rtn`);
  // Equalizing divides a convolution's output rows by different factors: only per-channel grids round them as before.
  if (o.equalize && o.weightScales !== 'per-channel') fail('BAD_ARGUMENT', 'equalize needs per-channel weights (it rescales each output channel of a convolution); add --per-channel');
  oneOf('observer', s.observer, OBSERVER_KINDS);
  oneOf('granularity', o.granularity ?? DEFAULT_GRANULARITY, GRANULARITIES);
  oneOf('setting', o.setting ?? 'brecq', SETTINGS);
  oneOf('backend', o.backend ?? 'auto', BACKEND_KINDS);
  oneOf('lrSchedule', o.lrSchedule ?? DEFAULT_LR_SCHEDULE, LR_SCHEDULES);
  if (o.lr !== undefined && !(o.lr > 0 && o.lr < 1)) fail('BAD_ARGUMENT', `lr ${o.lr}: expected a learning rate in (0, 1), e.g. 4e-4`);
  if (o.resume && o.checkpoint === undefined) fail('BAD_ARGUMENT', 'resume needs the checkpoint file to resume from');
  return s;
}

/**
 * Adam moves a parameter by at most about lr per step, so lr × iterations bounds how far a rounding can travel.
 * The papers' rates assume their budgets (FlexRound 4e-4 at 3/4 bits, 1e-3 at 2 bits, with 5k iterations; BRECQ's
 * AdaRound 1e-3 with 20k); for fewer iterations the rate rises so that FlexRound's log-divisors can still travel ~1
 * and AdaRound's V ~3 (enough to reach a hard 0/1). Measured on ResNet-8, 300 iterations: FlexRound W3 81.0 % at
 * 4e-4 vs 85.5 % at 3.3e-3; AdaRound W2 15.0 % at 1e-3 (no better than RTN) vs 67.0 % at 1e-2. FlexRound's rate
 * shrinks above 4 bits (flexRoundRateAt); ResNet-8 and DS-CNN W8A8 score the same at the 8- and 4-bit rates.
 */
function defaultLearningRate(method: RoundingMethod, wbits: number, iterations: number): number {
  if (method === 'flexround') return Math.max(wbits <= 2 ? 1e-3 : 4e-4, 1 / iterations) * flexRoundRateAt(wbits);
  return method === 'adaround' ? Math.max(1e-3, 3 / iterations) : 1e-4;
}

/** Identifies a run for resume: the model's bytes and every option that changes the result. */
function runFingerprint(model: string, o: QuantizeOptions, s: Settled, settings: ReconstructionOptions): string {
  const { calib, labels, preprocess, preprocessOverrides, layout, limit, offset, inputShape, samples, weightRange, equalize } = o;
  const { wbits, abits, observer } = s;
  const layerBits = o.layerBits && Object.fromEntries(o.layerBits);
  return createHash('sha256')
    .update(readFileSync(model))
    .update(JSON.stringify({ calib, labels, preprocess: preprocess ?? 'none', preprocessOverrides, layout, limit, offset, inputShape: inputShape?.join(','), samples, weightRange, equalize, wbits, abits, observer, settings, layerBits }))
    .digest('hex');
}

/** Every layer a bit plan names is a weighted layer of the model, with a width flexq quantizes to. */
function checkLayerBits(graph: Graph, model: string, layerBits: ReadonlyMap<string, WeightBits>): void {
  const names = weightedLayers(graph).map((l) => l.node.name);
  for (const [layer, bits] of layerBits) {
    if (!names.includes(layer)) fail('BAD_ARGUMENT', `bit plan: layer '${layer}' is not a weighted layer of ${model} (its weighted layers: ${names.join(', ')}); write the plan for this model with flexq validate … --suggest-bits`);
    if (!WEIGHT_BITS.includes(bits)) fail('BAD_ARGUMENT', `bit plan: layer '${layer}' has ${bits} bits; expected one of ${WEIGHT_BITS.join(', ')}`);
  }
}

/** Quantizes a model: calibrate activation grids on the float model, then round (RTN) or learn the rounding. */
export async function quantize(model: string, o: QuantizeOptions): Promise<QuantizedGraph> {
  const s = settle(o);
  // Opened first, so a backend that cannot start (no GPU adapter) fails before minutes of calibration.
  const backend = s.method === 'rtn' ? undefined : await openBackend(o.backend ?? 'auto');
  try {
    return await quantizeOn(backend, model, o, s);
  } finally {
    await backend?.dispose();
  }
}

async function quantizeOn(backend: TensorBackend | undefined, model: string, o: QuantizeOptions, s: Settled): Promise<QuantizedGraph> {
  const progressOf = o.progress ?? silentProgress;
  // A whole-input average pool becomes a mean with its own output grid (globalize-average-pool.ts says why).
  const loaded = globalizeAveragePool(loadModel(model, { inputShape: o.inputShape }).graph);
  if (o.target !== undefined) checkDeployable(loaded, o.target);
  const granularity = o.granularity ?? DEFAULT_GRANULARITY;
  if (s.method !== 'rtn') checkReconstructionSupported(loaded, granularity);
  const sampleShape = sampleShapeOf(loaded, model);
  const limit = o.samples !== undefined ? Math.min(o.samples, o.limit ?? Infinity) : o.limit;
  const data = await openData(o.calib, { ...o, limit }, sampleShape);
  const graph = o.equalize ? await equalizedGraph(loaded, data, s, o) : loaded;
  let activations = new Map<string, ActivationQuant>();
  if (s.abits < 32) {
    const executor = await createFloatExecutor(graph);
    const progress = progressOf('calibrate', data.size);
    try {
      activations = await calibrateActivations(graph, executor, data, OBSERVERS[s.observer], s.abits, s.batch, progress);
    } finally {
      executor.dispose();
    }
    progress.finish();
  }
  if (o.layerBits) checkLayerBits(graph, model, o.layerBits);
  const rtnOptions = { wbits: s.wbits, edgeBits: 8, range: o.weightRange, layerBits: o.layerBits, weightScales: o.weightScales };
  const info: QuantInfo = {
    flexqVersion: FLEXQ_VERSION,
    method: s.method,
    // With a bit plan, the narrowest width it gives (what W<n> in names and summaries means).
    wbits: o.layerBits ? Math.min(...o.layerBits.values()) : s.wbits,
    abits: s.abits,
    seed: s.seed,
    model,
    calibrationSamples: s.method !== 'rtn' || s.abits < 32 ? data.size : 0,
  };
  if (!backend) {
    const weights = rtnWeights(graph, rtnOptions);
    return assembleQuantizedGraph(await withCorrectedBiases(graph, weights, data, o, s), activations, weights, info);
  }

  const method = s.method as RoundingMethod;
  const iterations = o.iters ?? DEFAULT_ITERATIONS;
  const settings: ReconstructionOptions = {
    method,
    granularity,
    setting: o.setting ?? 'brecq',
    iterations,
    lr: o.lr ?? defaultLearningRate(method, s.wbits, iterations),
    // An int7 run's 8-bit layers are 7 bits wide and learn at the run's rate.
    lrBits: cappedWeightBits(s.wbits, o.weightRange ?? 'int8'),
    lrSchedule: o.lrSchedule ?? DEFAULT_LR_SCHEDULE,
    batch: s.batch,
    seed: s.seed,
  };
  // Every calibration sample in one array: reconstruction draws its batches from it.
  const calib: CalibrationSet = { count: data.size, data: await readAllSamples(data) };
  const fingerprint = runFingerprint(model, o, s, settings);
  const resume = o.resume && o.checkpoint !== undefined ? readCheckpoint(o.checkpoint, fingerprint) : undefined;
  o.log?.(
    `${method}: ${settings.granularity}-wise, ${settings.setting} setting, ${settings.iterations} iterations per unit, lr ${settings.lr} (${settings.lrSchedule}), batch ${settings.batch}, ${calib.count} samples, backend ${backend.name}${backend.device ? ` on ${backend.device}` : ''}` +
      (resume ? `, resuming after ${resume.unitsDone} units` : ''),
  );
  let progress: Progress | undefined;
  const result = await reconstruct(graph, rtnWeights(graph, rtnOptions), activations, calib, backend, settings, {
    resume,
    start: (units) => {
      progress = progressOf(method, (units.length - (resume?.unitsDone ?? 0)) * settings.iterations);
    },
    iteration: () => progress!.advance(1),
    unitDone: (c) => {
      if (o.checkpoint !== undefined) writeCheckpoint(o.checkpoint, fingerprint, c);
    },
  });
  progress?.finish();
  return assembleQuantizedGraph(graph, s.abits < 32 ? result.activations : activations, result.weights, info);
}

/** The float graph with its channels equalized (the same function), logging how many regions changed. */
async function equalizedGraph(graph: Graph, data: SampleBatches, s: Settled, o: QuantizeOptions): Promise<Graph> {
  const executor = await createFloatExecutor(graph);
  try {
    const equalized = await equalizeChannels(graph, executor, data, s.batch);
    o.log?.(`equalize: ${equalized.regions} regions of channels rescaled`);
    return equalized.graph;
  } finally {
    executor.dispose();
  }
}

/** The graph whose convolution biases absorb the chosen weights' rounding shift when biasCorrection asks for it. */
async function withCorrectedBiases(graph: Graph, weights: ReadonlyMap<string, QuantizedWeight>, data: SampleBatches, o: QuantizeOptions, s: Settled): Promise<Graph> {
  if (!o.biasCorrection) return graph;
  const executor = await createFloatExecutor(graph);
  try {
    return correctBiases(graph, weights, await layerInputMeans(graph, executor, data, s.batch));
  } finally {
    executor.dispose();
  }
}
