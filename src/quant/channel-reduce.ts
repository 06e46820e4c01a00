// One pass of the float model over the calibration data that folds each named NC… value per channel (axis 1), for the
// passes that rescale or correct channels from float statistics (equalize-channels.ts, bias-correction.ts).
import type { FloatExecutor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import type { SampleBatches } from './calibrate.js';

/** fold(acc, x) over every element of each channel of each named value, starting from `initial`. */
export async function reduceChannels(
  graph: Graph,
  executor: FloatExecutor,
  data: SampleBatches,
  names: readonly string[],
  batchSize: number,
  initial: number,
  fold: (acc: number, x: number) => number,
): Promise<Map<string, Float64Array>> {
  const reduced = new Map<string, Float64Array>();
  const input = graph.inputs[0];
  const sample = graph.values.get(input)!.shape.slice(1) as number[];
  for await (const batch of data.batches(batchSize)) {
    const out = executor.run({ [input]: { shape: [batch.count, ...sample], data: batch.data } }, names);
    for (const [name, t] of out) {
      const channels = t.shape[1];
      const acc = reduced.get(name) ?? new Float64Array(channels).fill(initial);
      const plane = t.data.length / (batch.count * channels);
      for (let i = 0; i < t.data.length; i++) {
        const c = Math.floor(i / plane) % channels;
        acc[c] = fold(acc[c], t.data[i]);
      }
      reduced.set(name, acc);
    }
  }
  return reduced;
}
