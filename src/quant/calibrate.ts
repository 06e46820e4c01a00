import type { FloatExecutor } from '../exec/float-executor.js';
import { producers, type Graph } from '../ir/graph.js';
import type { ActivationQuant } from '../ir/quantized-graph.js';
import { activationQuant, unitIntervalQuant } from './schemes.js';

/** Calibration samples, batched; implemented by calibration/ (the core only declares what it needs). */
export interface SampleBatches {
  readonly size: number;
  batches(batchSize: number): AsyncIterable<{ readonly data: Float32Array; readonly count: number }>;
}

/** Watches one activation over the calibration set and proposes its range; implemented in calibration/observers. */
export interface RangeObserver {
  observe(values: Float32Array): void;
  range(bits: number): readonly [number, number];
}

export type ObserverFactory = () => RangeObserver;

/** Ops whose integer output reuses the input's grid (they only move or select values). */
export const SAME_GRID: ReadonlySet<string> = new Set(['MaxPool', 'AveragePool', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Pad', 'Slice', 'Resize']);
/** Ops whose integer output has the fixed [0, 1) grid (TFLite's LOGISTIC / SOFTMAX contract). */
export const UNIT_GRID: ReadonlySet<string> = new Set(['Sigmoid', 'HardSigmoid', 'Softmax']);

/** The activation values an integer executor holds: graph inputs and every float node output. */
export function activationValues(graph: Graph): string[] {
  return [...graph.inputs, ...graph.nodes.flatMap((n) => n.outputs)].filter((v) => graph.values.get(v)?.dtype === 'float32');
}

export interface CalibrationProgress {
  advance(count: number): void;
}

/**
 * Runs the float model over the calibration data, observes every activation, and gives each its
 * int grid: observed range for most ops, the input's grid for data-movement ops, [0,1) for sigmoid/softmax.
 */
export async function calibrateActivations(
  graph: Graph,
  executor: FloatExecutor,
  data: SampleBatches,
  makeObserver: ObserverFactory,
  bits: number,
  batchSize: number,
  progress?: CalibrationProgress,
): Promise<Map<string, ActivationQuant>> {
  const names = activationValues(graph);
  const observers = new Map(names.map((n) => [n, makeObserver()]));
  const input = graph.inputs[0];
  const sample = graph.values.get(input)!.shape.slice(1) as number[];
  for await (const batch of data.batches(batchSize)) {
    const out = executor.run({ [input]: { shape: [batch.count, ...sample], data: batch.data } }, names);
    for (const [name, t] of out) observers.get(name)!.observe(t.data);
    progress?.advance(batch.count);
  }
  const made = producers(graph);
  const grids = new Map<string, ActivationQuant>();
  for (const name of names) {
    const node = made.get(name);
    if (node && SAME_GRID.has(node.op) && grids.has(node.inputs[0])) grids.set(name, grids.get(node.inputs[0])!);
    else if (node && UNIT_GRID.has(node.op)) grids.set(name, unitIntervalQuant(bits));
    else grids.set(name, activationQuant(...observers.get(name)!.range(bits), bits));
  }
  return grids;
}
