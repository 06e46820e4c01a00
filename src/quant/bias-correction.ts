// Bias correction (Nagel et al., "Data-Free Quantization", §4.2, with empirical input means): rounding a layer's
// weights shifts the mean of each output channel by Σ (W − Ŵ)·E[x]; folding that shift back into the bias removes it,
// so the layer's error has zero mean over the calibration data. Only the float bias moves: it is then rounded to int32
// like any bias, so every target runs the corrected model with no new arithmetic.
import type { FloatExecutor } from '../exec/float-executor.js';
import type { Graph, Value } from '../ir/graph.js';
import { dequantizeWeight, type QuantizedWeight } from '../ir/quantized-graph.js';
import type { SampleBatches } from './calibrate.js';
import { reduceChannels } from './channel-reduce.js';
import { weightedLayers, type WeightedLayer } from './layers.js';

/** Ops whose output channel mean bias correction moves: convolutions (their spatial means carry the shift). */
const CORRECTED_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose']);

/** The layers bias correction changes: convolutions with a constant bias. */
function correctedLayers(graph: Graph): WeightedLayer[] {
  return weightedLayers(graph).filter((l) => CORRECTED_OPS.has(l.node.op) && l.bias !== undefined);
}

/** Per-channel means of every corrected layer's input over the calibration data, run on the float model. */
export async function layerInputMeans(graph: Graph, executor: FloatExecutor, data: SampleBatches, batchSize: number): Promise<Map<string, Float64Array>> {
  const inputs = [...new Set(correctedLayers(graph).map((l) => l.node.inputs[0]))];
  const sums = await reduceChannels(graph, executor, data, inputs, batchSize, 0, (sum, x) => sum + x);
  const means = new Map<string, Float64Array>();
  for (const [name, sum] of sums) {
    const t = graph.values.get(name)!;
    const perChannel = data.size * (t.shape.slice(2) as number[]).reduce((a, b) => a * b, 1);
    means.set(name, sum.map((s) => s / perChannel));
  }
  return means;
}

/**
 * Σ_c Σ_k w[m, c, k]·mean[c] per output channel m, the part of E[y_m] the weights make (borders' padding ignored).
 * Conv weights are [Cout, Cin/group, k…]; ConvTranspose's are [Cin, Cout/group, k…] and each input pixel spreads its
 * taps over stride_h·stride_w output pixels.
 */
function weightedMean(layer: WeightedLayer, w: Float32Array, shape: readonly number[], mean: Float64Array): Float64Array {
  const group = Number(layer.node.attrs.group ?? 1);
  const taps = shape.slice(2).reduce((a, b) => a * b, 1);
  const [a0, a1] = shape;
  if (layer.node.op === 'Conv') {
    const out = new Float64Array(a0);
    const perGroup = a0 / group;
    for (let m = 0; m < a0; m++)
      for (let c = 0; c < a1; c++) {
        let s = 0;
        for (let k = 0; k < taps; k++) s += w[(m * a1 + c) * taps + k];
        out[m] += s * mean[Math.floor(m / perGroup) * a1 + c];
      }
    return out;
  }
  const strides = (layer.node.attrs.strides as number[] | undefined) ?? [1, 1];
  const spread = strides.reduce((a, b) => a * b, 1);
  const out = new Float64Array(a1 * group);
  const inPerGroup = a0 / group;
  for (let c = 0; c < a0; c++)
    for (let j = 0; j < a1; j++) {
      let s = 0;
      for (let k = 0; k < taps; k++) s += w[(c * a1 + j) * taps + k];
      out[Math.floor(c / inPerGroup) * a1 + j] += (s * mean[c]) / spread;
    }
  return out;
}

/** The graph with each convolution's float bias moved by Σ (W − Ŵ)·E[x], so rounding leaves its output means as they were. */
export function correctBiases(graph: Graph, weights: ReadonlyMap<string, QuantizedWeight>, inputMeans: ReadonlyMap<string, Float64Array>): Graph {
  const values = new Map<string, Value>(graph.values);
  for (const layer of correctedLayers(graph)) {
    const w = graph.values.get(layer.weight)!;
    const mean = inputMeans.get(layer.node.inputs[0])!;
    const floatMean = weightedMean(layer, w.data as Float32Array, w.shape as number[], mean);
    const roundedMean = weightedMean(layer, dequantizeWeight(weights.get(layer.weight)!), w.shape as number[], mean);
    const bias = values.get(layer.bias!)!;
    values.set(layer.bias!, { ...bias, data: Float32Array.from(bias.data as Float32Array, (b, m) => b + floatMean[m] - roundedMean[m]) });
  }
  return { ...graph, values };
}
