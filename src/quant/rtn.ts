import type { Graph, Node, Value } from '../ir/graph.js';
import { layerBits, weightedLayers } from './layers.js';
import {
  dequantizeBias,
  dequantizeWeight,
  type ActivationQuant,
  type QuantInfo,
  type QuantizedBias,
  type QuantizedGraph,
  type QuantizedWeight,
} from '../ir/quantized-graph.js';
import { quantizeConstantOperands } from './constant-operands.js';
import { cappedWeightBits, fp32, type WeightRange } from './schemes.js';
import { quantizeWeightRtn, quantizeWeightRtnPerChannel } from './weight-grid.js';

const INT32_MAX = 2 ** 31 - 1;

/** bias / (s_in · s_w) rounded to int32, the scale every int8 target expects for a conv/FC bias. */
export function quantizeBias(bias: Float32Array, inputScale: number, weight: QuantizedWeight): QuantizedBias {
  const toInt32 = (b: number, scale: number) => Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(b / scale)));
  if (!weight.channelScales) {
    const scale = fp32(inputScale * weight.scale);
    return { scale, values: Int32Array.from(bias, (b) => toInt32(b, scale)) };
  }
  // Per-channel weights: output m accumulates at s_in · s_w[m], so its bias does too.
  const channelScales = weight.channelScales.map((s) => fp32(inputScale * s));
  return { scale: Math.max(...channelScales), channelScales, values: Int32Array.from(bias, (b, m) => toInt32(b, channelScales[m])) };
}

export interface RtnOptions {
  readonly wbits: number;
  /** Bits of the first and last weighted layer (8 by default). */
  readonly edgeBits: number;
  /** 'int7' caps every layer at 7 bits, [−64, 63] (schemes.ts); default 'int8'. */
  readonly range?: WeightRange;
  /** Bits of named layers (a bit plan), over wbits and edgeBits. */
  readonly layerBits?: ReadonlyMap<string, number>;
  /** 'per-channel': one scale per output channel of every Conv and transB Gemm (other layers stay per tensor); default 'per-tensor'. */
  readonly weightScales?: WeightScales;
}

export type WeightScales = 'per-tensor' | 'per-channel';
export const WEIGHT_SCALES: readonly WeightScales[] = ['per-tensor', 'per-channel'];

/** Layers whose weight's axis 0 is the output channel, the axis channelScales index (runtime, exporters, C). */
function outputChannelFirst(node: Node): boolean {
  return node.op === 'Conv' || (node.op === 'Gemm' && (node.attrs.transB ?? 0) === 1);
}

/**
 * Rounding to nearest on the clipping-searched per-tensor (or per-channel) grid, for every weighted layer; biases become
 * int32 when activations are quantized. The graph keeps the dequantized values so it runs as is.
 */
export function quantizeRtn(graph: Graph, activations: ReadonlyMap<string, ActivationQuant>, options: RtnOptions, info: QuantInfo): QuantizedGraph {
  return assembleQuantizedGraph(graph, activations, rtnWeights(graph, options), info);
}

/** The RTN integers of every weighted layer, by weight name (also where learned rounding starts). */
export function rtnWeights(graph: Graph, options: RtnOptions): Map<string, QuantizedWeight> {
  const layers = weightedLayers(graph);
  const bits = layerBits(layers, options.wbits, options.edgeBits);
  return new Map(layers.map((layer) => {
    const w = graph.values.get(layer.weight)!;
    const capped = cappedWeightBits(options.layerBits?.get(layer.node.name) ?? bits.get(layer.node.name)!, options.range ?? 'int8');
    const perChannel = options.weightScales === 'per-channel' && outputChannelFirst(layer.node);
    return [layer.weight, (perChannel ? quantizeWeightRtnPerChannel : quantizeWeightRtn)(w.data as Float32Array, w.shape as number[], capped)];
  }));
}

/**
 * The QuantizedGraph of given weight integers and activation grids: biases become int32 at s_in · s_w when the
 * layer's input is quantized, and the graph carries every dequantized weight and bias so it runs as is.
 */
export function assembleQuantizedGraph(graph: Graph, activations: ReadonlyMap<string, ActivationQuant>, weights: ReadonlyMap<string, QuantizedWeight>, info: QuantInfo): QuantizedGraph {
  const biases = new Map<string, QuantizedBias>();
  for (const layer of weightedLayers(graph)) {
    const input = activations.get(layer.node.inputs[0]);
    if (layer.bias && input) biases.set(layer.bias, quantizeBias(graph.values.get(layer.bias)!.data as Float32Array, input.scale, weights.get(layer.weight)!));
  }
  // With quantized activations, an Add's constant operand gets integers too (constant-operands.ts).
  const all = new Map([...weights, ...quantizeConstantOperands(graph, activations)]);
  const values = new Map<string, Value>(graph.values);
  for (const [name, w] of all) values.set(name, { ...values.get(name)!, data: dequantizeWeight(w) });
  for (const [name, b] of biases) values.set(name, { ...values.get(name)!, data: dequantizeBias(b) });
  return { graph: { ...graph, values }, activations, weights: all, biases, info };
}
