// Reconstruction: learns each unit's rounding (and its activation steps) so that the quantized unit, fed the input
// the already-quantized part of the network produces, reproduces the float model's output of the unit.
// Two streams run through the graph over all calibration samples: `float` (the float model) and `quant` (weights
// learned so far, activations fake-quantized where they are consumed). Each unit trains on batches drawn from both,
// then the quant stream moves past it with the unit's final integers.

import type { TensorBackend } from '../backend/backend.js';
import { consumers, producers, type Graph, type Node } from '../ir/graph.js';
import { sizeOf } from '../ir/shape.js';
import { intAttr } from '../ops/contract.js';
import { mulberry32, type Random } from '../random.js';
import { createAdaQuant } from './adaquant.js';
import { createAdaRound } from './adaround.js';
import { activationValues, SAME_GRID, UNIT_GRID } from './calibrate.js';
import { reconstructionUnits, type Granularity, type ReconstructionUnit } from './blocks.js';
import { createFlexRound } from './flexround.js';
import { weightedLayers } from './layers.js';
import { fakeQuantize, LearnedStep } from './lsq.js';
import { lrFactor, type LrSchedule } from './lr-schedule.js';
import { checkReconstructible, forwardNode } from './node-autodiff.js';
import { UnitTrainer, type Setting } from './unit-trainer.js';
import { dequantizeWeight, type ActivationQuant, type QuantizedWeight } from '../ir/quantized-graph.js';
import { convLayout, matrixLayout, type QuantizerInit, type WeightQuantizer } from './weight-quantizer.js';
import type { FloatTensor } from '../tensor.js';

export type RoundingMethod = 'flexround' | 'adaround' | 'adaquant';

export const ROUNDING_METHODS: Record<RoundingMethod, (init: QuantizerInit) => WeightQuantizer> = {
  flexround: createFlexRound,
  adaround: createAdaRound,
  adaquant: createAdaQuant,
};

/** Samples per forward call when a stream moves past a node (memory, not results, depends on it). */
const STREAM_CHUNK = 64;

export interface ReconstructionOptions {
  readonly method: RoundingMethod;
  readonly granularity: Granularity;
  readonly setting: Setting;
  readonly iterations: number;
  /** The learning rate of layers `lrBits` wide (FlexRound scales other widths': flexRoundRateScale). */
  readonly lr: number;
  readonly lrBits: number;
  /** How the learning rate moves over a unit's iterations; default 'constant'. */
  readonly lrSchedule?: LrSchedule;
  readonly batch: number;
  readonly seed: number;
}

/** Calibration inputs, [count, ...sampleShape] row-major. */
export interface CalibrationSet {
  readonly count: number;
  readonly data: Float32Array;
}

/** What survives a unit: enough to skip the finished units on --resume and end with the same bytes. */
export interface ReconstructionCheckpoint {
  readonly unitsDone: number;
  readonly weights: ReadonlyMap<string, QuantizedWeight>;
  readonly activations: ReadonlyMap<string, ActivationQuant>;
}

export interface ReconstructionHooks {
  /** Called once before training with the plan (unit names and iterations per unit). */
  start?(units: readonly ReconstructionUnit[]): void;
  /** Called after every iteration. */
  iteration?(unit: number, loss: number): void;
  /** Called after every unit with the state to save. */
  unitDone?(checkpoint: ReconstructionCheckpoint): void | Promise<void>;
  readonly resume?: ReconstructionCheckpoint;
}

/** A value held for every calibration sample. */
interface Stream {
  readonly perSample: number;
  readonly sampleShape: readonly number[];
  readonly data: Float32Array;
}

function sampleShapeOf(graph: Graph, value: string): number[] {
  return graph.values.get(value)!.shape.slice(1) as number[];
}

/** Rows `rows` of a stream as one batch tensor, written into `out` (a new array when not given). */
function gather(s: Stream, rows: Int32Array, out = new Float32Array(rows.length * s.perSample)): FloatTensor {
  rows.forEach((r, k) => out.set(s.data.subarray(r * s.perSample, (r + 1) * s.perSample), k * s.perSample));
  return { shape: [rows.length, ...s.sampleShape], data: out };
}

/**
 * Gathers every training batch of a stream into one array reused by each iteration: a fresh MobileNetV2 batch is up
 * to 154 MB, and zeroing, faulting in and collecting it cost more than the copy. A step reads its batch and keeps
 * nothing of it.
 */
function batchGatherer(s: Stream, batch: number): (rows: Int32Array) => FloatTensor {
  const out = new Float32Array(batch * s.perSample);
  return (rows) => gather(s, rows, out);
}

/** `size` distinct indices of [0, count), drawn by a partial Fisher–Yates shuffle. */
function drawBatch(count: number, size: number, random: Random): Int32Array {
  const pool = Int32Array.from({ length: count }, (_, i) => i);
  const n = Math.min(size, count);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (count - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

/** A seed per unit, so a resumed run draws exactly what an uninterrupted one would. */
function unitSeed(seed: number, unit: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(unit + 1, 0xc2b2ae35)) >>> 0;
}

/**
 * One learnable step per activation grid, shared where the integer graph shares a grid (MaxPool, Reshape, … keep
 * their input's); the fixed [0, 1) grids of Softmax and friends are not learned.
 */
function activationSteps(graph: Graph, grids: ReadonlyMap<string, ActivationQuant>): Map<string, LearnedStep> {
  const made = producers(graph);
  const steps = new Map<string, LearnedStep>();
  for (const v of activationValues(graph)) {
    const grid = grids.get(v);
    const node = made.get(v);
    if (!grid || (node && UNIT_GRID.has(node.op))) continue;
    const shared = node && SAME_GRID.has(node.op) ? steps.get(node.inputs[0]) : undefined;
    steps.set(v, shared ?? new LearnedStep(grid));
  }
  return steps;
}

/** What a learnable rounding of `node`'s weight starts from: the float weight, its channel layout, its RTN grid. */
export function quantizerInit(graph: Graph, node: Node, rtn: QuantizedWeight, iterations: number, rateBits: number): QuantizerInit {
  const w = graph.values.get(node.inputs[1])!;
  const layout = node.op === 'Conv' ? convLayout(w.shape as number[]) : matrixLayout(w.shape as number[], node.op === 'Gemm' && intAttr(node, 'transB', 0) === 1 ? 0 : 1);
  return { w: w.data as Float32Array, shape: rtn.shape, layout, rtn, iterations, rateBits };
}

/** The nodes reconstruction runs: every node up to the last unit's last. */
function reconstructedNodes(graph: Graph, units: readonly ReconstructionUnit[]): Node[] {
  return graph.nodes.slice(0, graph.nodes.indexOf(units.at(-1)!.nodes.at(-1)!) + 1);
}

/** Fails before calibration, listing every node reconstruction would have to run but cannot. */
export function checkReconstructionSupported(graph: Graph, granularity: Granularity): void {
  const units = reconstructionUnits(graph, granularity);
  if (units.length > 0) checkReconstructible(reconstructedNodes(graph, units), graph.source);
}

export async function reconstruct(
  graph: Graph,
  rtn: ReadonlyMap<string, QuantizedWeight>,
  grids: ReadonlyMap<string, ActivationQuant>,
  calib: CalibrationSet,
  backend: TensorBackend,
  o: ReconstructionOptions,
  hooks: ReconstructionHooks = {},
): Promise<ReconstructionCheckpoint> {
  const units = reconstructionUnits(graph, o.granularity);
  const weightOf = new Map(weightedLayers(graph).map((l) => [l.node, l.weight]));
  const nodes = reconstructedNodes(graph, units);
  checkReconstructible(nodes, graph.source);

  const weights = new Map(hooks.resume?.weights ?? rtn);
  const steps = activationSteps(graph, hooks.resume?.activations ?? grids);
  /** Steps already learned by an earlier unit (a step is learned by the first unit that reads it). */
  const settled = new Set<LearnedStep>();
  const unitAt = new Map(units.map((u, k) => [u.nodes[0], k]));
  hooks.start?.(units);

  const input = graph.inputs[0];
  const shapeIn = sampleShapeOf(graph, input);
  const float = new Map<string, Stream>([[input, { sampleShape: shapeIn, perSample: sizeOf(shapeIn), data: calib.data }]]);
  const quant = new Map(float);
  const remaining = new Map<string, number>();
  for (const [v, readers] of consumers({ ...graph, nodes })) remaining.set(v, readers.length);

  /** The quant stream's value as a consumer sees it: fake-quantized with its current step. */
  const quantized = (value: string, x: Float32Array) => {
    const step = steps.get(value);
    return step ? fakeQuantize(x, step).y : x;
  };

  /** Moves a stream past one node, over all samples in chunks. */
  async function advance(stream: Map<string, Stream>, node: Node, isQuant: boolean): Promise<void> {
    const ins = node.inputs.filter((v) => stream.has(v));
    const out = node.outputs[0];
    const outShape = sampleShapeOf(graph, out);
    const perOut = sizeOf(outShape);
    const data = new Float32Array(calib.count * perOut);
    const w = weightOf.get(node);
    const weight = w ? (isQuant ? dequantizeWeight(weights.get(w)!) : (graph.values.get(w)!.data as Float32Array)) : undefined;
    for (let start = 0; start < calib.count; start += STREAM_CHUNK) {
      const rows = Int32Array.from({ length: Math.min(STREAM_CHUNK, calib.count - start) }, (_, k) => start + k);
      const xs = ins.map((v) => {
        const t = gather(stream.get(v)!, rows);
        return isQuant ? { shape: t.shape, data: quantized(v, t.data) } : t;
      });
      const y = await forwardNode(backend, graph, node, xs, weight);
      data.set(y.data, start * perOut);
    }
    stream.set(out, { sampleShape: outShape, perSample: perOut, data });
  }

  function release(node: Node): void {
    for (const v of node.inputs) {
      const left = (remaining.get(v) ?? 0) - 1;
      remaining.set(v, left);
      if (left === 0 && v !== input) {
        float.delete(v);
        quant.delete(v);
      }
    }
  }

  const floatDone = new Set<Node>();
  for (const node of nodes) {
    const k = unitAt.get(node);
    if (k !== undefined) {
      const unit = units[k];
      for (const n of unit.nodes) {
        await advance(float, n, false);
        floatDone.add(n);
      }
      if (k >= (hooks.resume?.unitsDone ?? 0)) {
        await trainUnit(unit, k);
        await hooks.unitDone?.({ unitsDone: k + 1, weights, activations: learnedGrids() });
      }
      for (const v of [unit.input, ...unit.nodes.slice(0, -1).map((n) => n.outputs[0])]) {
        const step = steps.get(v);
        if (step && !settled.has(step)) {
          step.settle();
          settled.add(step);
        }
      }
    }
    if (!floatDone.has(node)) await advance(float, node, false);
    await advance(quant, node, true);
    release(node);
  }
  return { unitsDone: units.length, weights, activations: learnedGrids() };

  /** Every grid as it stands: learned steps where there are, the calibrated grid elsewhere. */
  function learnedGrids(): Map<string, ActivationQuant> {
    return new Map([...grids.keys()].map((v) => [v, steps.get(v)?.result() ?? grids.get(v)!]));
  }

  async function trainUnit(unit: ReconstructionUnit, index: number): Promise<void> {
    const random = mulberry32(unitSeed(o.seed, index));
    const produced = new Set(unit.nodes.map((n) => n.outputs[0]));
    const quantizers = new Map<Node, WeightQuantizer>();
    for (const n of unit.nodes) {
      const w = weightOf.get(n);
      if (w) quantizers.set(n, ROUNDING_METHODS[o.method](quantizerInit(graph, n, rtn.get(w)!, o.iterations, o.lrBits)));
    }
    // The activation steps this unit learns: the quantizers on what its nodes read, unless an earlier unit learned them.
    const learned = [...new Set(unit.nodes.flatMap((n) => n.inputs))].filter((v) => steps.has(v) && !settled.has(steps.get(v)!) && (v === unit.input || produced.has(v)));
    const schedule = o.lrSchedule ?? 'constant';
    const trainer = new UnitTrainer(graph, backend, unit, quantizers, steps, learned, o.setting, o.lr, (it) => lrFactor(schedule, it, o.iterations));
    const batch = Math.min(o.batch, calib.count);
    const quantInputBatch = batchGatherer(quant.get(unit.input)!, batch);
    const floatInputBatch = o.setting === 'qdrop' ? batchGatherer(float.get(unit.input)!, batch) : undefined;
    const targetBatch = batchGatherer(float.get(unit.output)!, batch);
    for (let it = 0; it < o.iterations; it++) {
      const rows = drawBatch(calib.count, o.batch, random);
      const loss = await trainer.step({ input: quantInputBatch(rows), floatInput: floatInputBatch?.(rows), target: targetBatch(rows) }, it, random);
      hooks.iteration?.(index, loss);
    }
    for (const [n, q] of quantizers) weights.set(weightOf.get(n)!, q.finish());
  }
}
