import type { FloatExecutor } from '../exec/float-executor.js';
import { consumers, producers, type Graph, type Node } from '../ir/graph.js';
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

/**
 * The input interval outside of which an activation's integer output no longer changes: wider observed ranges on
 * the activation's input only spend grid levels on values that all give the same answer (a conv → Sigmoid logit
 * of −970, a conv → HardSwish value of −68). Sigmoid: its [0, 1) grid at 1/2^bits gives 0 below −ln(2^(bits+1) − 1)
 * and the top level above +ln(2^(bits+1) − 1); the bound used, ln(2^(bits+2)), leaves half a level of margin for
 * the input grid's own rounding of its ends. Relu is left out: cut to [0, max], a separate Add → Relu (BlazeFace)
 * stops matching LiteRT's built-in kernels byte for byte.
 */
const SATURATION: Readonly<Record<string, (node: Node, bits: number) => readonly [number, number]>> = {
  Sigmoid: (_node, bits) => [-Math.log(2 ** (bits + 2)), Math.log(2 ** (bits + 2))],
  HardSigmoid: (node) => {
    const [alpha, beta] = [Number(node.attrs.alpha ?? 0.2), Number(node.attrs.beta ?? 0.5)];
    return alpha > 0 ? [-beta / alpha, (1 - beta) / alpha] : [-Infinity, Infinity];
  },
  HardSwish: () => [-3, Infinity],
  Clip: (node) => [Number(node.attrs.min ?? -Infinity), Number(node.attrs.max ?? Infinity)],
};

/** The widest input interval any reader of `value` distinguishes, or undefined when some reader sees every value. */
function saturationOf(graph: Graph, readers: readonly Node[] | undefined, value: string, bits: number): readonly [number, number] | undefined {
  if (!readers || graph.outputs.includes(value) || !readers.every((n) => n.op in SATURATION)) return undefined;
  const bounds = readers.map((n) => SATURATION[n.op](n, bits));
  return [Math.min(...bounds.map((b) => b[0])), Math.max(...bounds.map((b) => b[1]))];
}

/** The activation values an integer executor holds: graph inputs and every float node output. */
export function activationValues(graph: Graph): string[] {
  return [...graph.inputs, ...graph.nodes.flatMap((n) => n.outputs)].filter((v) => graph.values.get(v)?.dtype === 'float32');
}

export interface CalibrationProgress {
  advance(count: number): void;
}

/**
 * Runs the float model over the calibration data, observes every activation, and gives each its
 * int grid: observed range for most ops (cut to what saturating readers distinguish), the input's grid for
 * data-movement ops, [0,1) for sigmoid/softmax.
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
  const readers = consumers(graph);
  const grids = new Map<string, ActivationQuant>();
  for (const name of names) {
    const node = made.get(name);
    if (node && SAME_GRID.has(node.op) && grids.has(node.inputs[0])) grids.set(name, grids.get(node.inputs[0])!);
    else if (node && UNIT_GRID.has(node.op)) grids.set(name, unitIntervalQuant(bits));
    else {
      const [lo, hi] = observers.get(name)!.range(bits);
      const [min, max] = saturationOf(graph, readers.get(name), name, bits) ?? [-Infinity, Infinity];
      grids.set(name, activationQuant(Math.max(lo, min), Math.min(hi, max), bits));
    }
  }
  return grids;
}
