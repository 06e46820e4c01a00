// RTN W8A8 of a graph made by code, calibrated (min/max) on deterministic inputs in [−2, 2): a real quantized graph
// for tests of the runtime and the targets without a model file.
import { OBSERVERS } from '../../calibration/observers.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { calibrateActivations } from '../../src/quant/calibrate.js';
import { quantizeRtn } from '../../src/quant/rtn.js';
import { randomFloats } from './graphs.js';

const INFO = { flexqVersion: 'test', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: 'fixture', calibrationSamples: 64 } as const;

export async function quantizeFixture(graph: Graph, sample: number[]): Promise<QuantizedGraph> {
  const size = sample.reduce((a, b) => a * b, 1);
  const calibration = {
    size: 64,
    async *batches(batchSize: number) {
      for (let i = 0; i < 64; i += batchSize) yield { data: randomFloats(batchSize * size, 100 + i).map((v) => 2 * v), count: batchSize };
    },
  };
  const executor = await createFloatExecutor(graph);
  try {
    const activations = await calibrateActivations(graph, executor, calibration, OBSERVERS.minmax, 8, 16);
    return quantizeRtn(graph, activations, { wbits: 8, edgeBits: 8 }, INFO);
  } finally {
    executor.dispose();
  }
}
