// blame: what each layer's weight quantization costs. The float model is run with one layer's weights quantized
// (the rest float) and with one layer kept float (the rest quantized); activations stay float, so the figures are
// the weights' share alone. The metric is top-1 accuracy on labelled data; output SQNR against float always.
import type { Dataset } from '../../calibration/index.js';
import type { Graph, Value } from '../ir/graph.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import { AgreementAccumulator, argmaxRows } from '../metrics.js';
import { weightedLayers, type WeightedLayer } from '../quant/layers.js';
import { DEFAULT_BATCH, type DataOptions } from './data.js';
import { floatExecutor } from './executors.js';
import { silentProgress, type JobHooks } from './progress.js';

/** How well one set of weights does on the data. */
export interface WeightScore {
  readonly top1?: number;
  readonly sqnrDb: number;
}

export interface LayerBlame {
  /** The layer's node name (the key of a bit plan). */
  readonly layer: string;
  readonly op: string;
  readonly params: number;
  readonly bits: number;
  /** This layer's weights quantized, every other layer float. */
  readonly alone: WeightScore;
  /** This layer's weights float, every other layer quantized. */
  readonly keptFloat: WeightScore;
}

export interface BlameReport {
  /** What is ranked: top-1 accuracy when the data has labels, else output SQNR. */
  readonly metric: 'top1' | 'sqnrDb';
  readonly float: WeightScore;
  /** Every layer's weights quantized (activations float). */
  readonly quantized: WeightScore;
  /** Costliest first: by what quantizing the layer alone loses, then by what keeping it float regains. */
  readonly layers: LayerBlame[];
}

/** Replacement values of some constants (weights, biases), by value name. */
export type WeightOverrides = ReadonlyMap<string, Float32Array>;

/**
 * The data held in memory with the float model's outputs, so that many weight variants are scored on the same
 * samples against the same reference.
 */
export interface WeightScorer {
  /** The float graph the variants start from. */
  readonly graph: Graph;
  readonly layers: readonly WeightedLayer[];
  readonly labeled: boolean;
  score(overrides: WeightOverrides): Promise<WeightScore>;
}

interface HeldBatch {
  readonly input: { shape: number[]; data: Float32Array };
  readonly labels?: readonly number[];
  readonly reference: Float32Array;
}

export async function weightScorer(graph: Graph, data: Dataset, sampleShape: readonly number[], o: DataOptions): Promise<WeightScorer> {
  const output = graph.outputs[0];
  const reference = await floatExecutor(graph);
  const held: HeldBatch[] = [];
  try {
    for await (const batch of data.batches(o.batch ?? DEFAULT_BATCH)) {
      const input = { shape: [batch.count, ...sampleShape], data: batch.data.slice() };
      held.push({ input, labels: batch.labels ? [...batch.labels] : undefined, reference: (await reference.run(input)).get(output)!.data });
    }
  } finally {
    await reference.dispose();
  }
  const labeled = held.every((b) => b.labels !== undefined);
  return {
    graph,
    layers: weightedLayers(graph),
    labeled,
    async score(overrides) {
      const values = new Map<string, Value>(graph.values);
      for (const [name, v] of overrides) values.set(name, { ...values.get(name)!, data: v });
      const ex = await floatExecutor({ ...graph, values });
      const agreement = new AgreementAccumulator();
      let correct = 0;
      let count = 0;
      try {
        for (const b of held) {
          const out = (await ex.run(b.input)).get(output)!.data;
          agreement.add(b.reference, out);
          const n = b.input.shape[0];
          if (b.labels) correct += argmaxRows(out, n).filter((c, i) => c === b.labels![i]).length;
          count += n;
        }
      } finally {
        await ex.dispose();
      }
      return { ...(labeled ? { top1: correct / count } : {}), sqnrDb: agreement.stats().sqnrDb };
    },
  };
}

/** A layer's weight and bias values as the quantized graph holds them (dequantized). */
function quantizedValues(q: QuantizedGraph, layer: WeightedLayer): [string, Float32Array][] {
  return [layer.weight, ...(layer.bias ? [layer.bias] : [])].map((name) => [name, q.graph.values.get(name)!.data as Float32Array]);
}

/** The metric's value of a score: higher is better (an SQNR of ∞ counts as very high). */
export function metricOf(s: WeightScore, metric: BlameReport['metric']): number {
  return metric === 'top1' ? s.top1! : Math.min(s.sqnrDb, 1000);
}

/** Blame of every weighted layer of `q` on the scorer's data. */
export async function blameLayers(scorer: WeightScorer, q: QuantizedGraph, o: JobHooks): Promise<BlameReport> {
  const metric = scorer.labeled ? 'top1' : 'sqnrDb';
  const all = scorer.layers.flatMap((l) => quantizedValues(q, l));
  const progress = (o.progress ?? silentProgress)('blame', 2 + 2 * scorer.layers.length);
  const step = async (overrides: WeightOverrides) => {
    const s = await scorer.score(overrides);
    progress.advance(1);
    return s;
  };
  const float = await step(new Map());
  const quantized = await step(new Map(all));
  const layers: LayerBlame[] = [];
  for (const layer of scorer.layers) {
    const own = new Set([layer.weight, layer.bias]);
    layers.push({
      layer: layer.node.name,
      op: layer.node.op,
      params: q.weights.get(layer.weight)!.values.length,
      bits: q.weights.get(layer.weight)!.bits,
      alone: await step(new Map(quantizedValues(q, layer))),
      keptFloat: await step(new Map(all.filter(([name]) => !own.has(name)))),
    });
  }
  progress.finish();
  const cost = (l: LayerBlame) => metricOf(float, metric) - metricOf(l.alone, metric);
  const regain = (l: LayerBlame) => metricOf(l.keptFloat, metric) - metricOf(quantized, metric);
  layers.sort((a, b) => cost(b) - cost(a) || regain(b) - regain(a));
  return { metric, float, quantized, layers };
}
