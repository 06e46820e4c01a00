// The data options every job that reads samples takes, and the per-sample shape a model wants.
import { openDataset, type Dataset, type Layout, type Preprocess, type PreprocessOverrides } from '../../calibration/index.js';
import { fail } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { formatShape, isStatic, sizeOf, type Dim } from '../ir/shape.js';

export interface DataOptions {
  /** .npy of integer labels, for .npy data (an ImageFolder's labels are its class folders). */
  readonly labels?: string;
  /** Default 'none'. */
  readonly preprocess?: Preprocess;
  /** Changes to the preset: `--resize short|exact`, `--size`, `--mean`, `--std`. */
  readonly preprocessOverrides?: PreprocessOverrides;
  /** Layout of 4-D .npy samples. */
  readonly layout?: Layout;
  readonly limit?: number;
  readonly offset?: number;
  /** Concrete dims for a model's dynamic input dims, e.g. [1, 3, 48, 192]. */
  readonly inputShape?: readonly Dim[];
  /** Samples per batch; default 32. */
  readonly batch?: number;
}

export const DEFAULT_BATCH = 32;

/** The static per-sample input shape of a graph, or an error saying to give inputShape. */
export function sampleShapeOf(graph: Graph, path: string): number[] {
  if (graph.inputs.length !== 1) fail('BAD_ARGUMENT', `${path}: flexq runs models with one input; this one has ${graph.inputs.length}`);
  const input = graph.inputs[0];
  const sample = graph.values.get(input)!.shape.slice(1);
  if (!isStatic(sample)) fail('BAD_ARGUMENT', `${path}: input '${input}' has dynamic dims ${formatShape(sample)}; give concrete dims as the input shape (--input-shape N,C,H,W)`);
  return [...sample];
}

/** Every sample of a dataset in one [size, ...sampleShape] array (reconstruction and the proofs read it whole). */
export async function readAllSamples(data: Dataset): Promise<Float32Array> {
  const all = new Float32Array(data.size * sizeOf(data.sampleShape));
  let at = 0;
  for await (const batch of data.batches(256)) {
    all.set(batch.data, at);
    at += batch.data.length;
  }
  return all;
}

/** Opens `path` as samples of `sampleShape` with the given options. */
export function openData(path: string, o: DataOptions, sampleShape: readonly number[]): Promise<Dataset> {
  return openDataset({ path, labels: o.labels, preprocess: o.preprocess ?? 'none', overrides: o.preprocessOverrides, layout: o.layout, limit: o.limit, offset: o.offset, sampleShape });
}
