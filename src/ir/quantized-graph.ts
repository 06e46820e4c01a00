import { fail } from '../errors.js';
import type { Graph } from './graph.js';

/**
 * Quantization of one activation tensor: real = scale · (q − zeroPoint), q ∈ [qmin, qmax] (int8 storage).
 * Scales are float32 values (Math.fround) so that every exporter writes, and every executor reads, the same number.
 */
export interface ActivationQuant {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly bits: number;
  readonly qmin: number;
  readonly qmax: number;
}

/**
 * A weight tensor's integers (int8 storage for 8/4/3/2 bits) with its grid: per tensor (`scale`), or per output
 * channel (`channelScales`, one per index of axis 0, as the TFLite converter quantizes conv weights; `scale` is then
 * the largest of them, for reports only: every consumer reads channelScales through `weightScaleOf`).
 */
export interface QuantizedWeight {
  readonly shape: readonly number[];
  readonly values: Int8Array;
  readonly scale: number;
  readonly channelScales?: Float32Array;
  readonly zeroPoint: number;
  readonly bits: number;
  readonly qmin: number;
  readonly qmax: number;
}

/** An int32 bias at scale inputScale · weightScale, zero point 0 (per channel when its weight is: channelScales). */
export interface QuantizedBias {
  readonly values: Int32Array;
  readonly scale: number;
  readonly channelScales?: Float32Array;
}

/** 'imported': the integers come from an int8 model another tool made (the TFLite converter). */
export type QuantMethod = 'rtn' | 'adaround' | 'adaquant' | 'flexround' | 'imported';

export interface QuantInfo {
  readonly flexqVersion: string;
  readonly method: QuantMethod;
  readonly wbits: number;
  /** 32 means activations stay float (weights-only quantization). */
  readonly abits: number;
  readonly seed: number;
  /** The model file it was made from, and how many calibration samples were used. */
  readonly model: string;
  readonly calibrationSamples: number;
}

/**
 * The single source of integers and scales that every exporter and executor reads.
 * `graph` is the float graph after flexq's passes, with every weight in `weights` and bias in `biases`
 * holding its dequantized value, so the float executor runs the weights-quantized model as it is.
 */
export interface QuantizedGraph {
  readonly graph: Graph;
  readonly activations: ReadonlyMap<string, ActivationQuant>;
  readonly weights: ReadonlyMap<string, QuantizedWeight>;
  readonly biases: ReadonlyMap<string, QuantizedBias>;
  readonly info: QuantInfo;
}

/** The scale of output channel `channel` (index along axis 0) of a weight or bias, per tensor or per channel. */
export function weightScaleOf(w: QuantizedWeight | QuantizedBias, channel: number): number {
  return w.channelScales ? w.channelScales[channel] : w.scale;
}

export function dequantizeWeight(w: QuantizedWeight): Float32Array {
  const inner = w.values.length / (w.shape[0] ?? 1);
  return Float32Array.from(w.values, (q, i) => weightScaleOf(w, Math.floor(i / inner)) * (q - w.zeroPoint));
}

export function dequantizeBias(b: QuantizedBias): Float32Array {
  return Float32Array.from(b.values, (q, i) => weightScaleOf(b, i) * q);
}

/**
 * Fails, naming the first layer with per-channel weights, for targets whose kernels take one weight scale per layer
 * (`target` says which, and `what` what to do instead).
 */
export function refusePerChannelWeights(q: QuantizedGraph, target: string): void {
  const layer = q.graph.nodes.find((n) => q.weights.get(n.inputs[1] ?? '')?.channelScales);
  if (!layer) return;
  const scales = q.weights.get(layer.inputs[1])!.channelScales!.length;
  fail(
    'UNSUPPORTED_ATTR',
    `${q.graph.source}: node '${layer.name}' (${layer.op}) has per-channel weights (${scales} scales); the ${target} kernels take one weight scale per layer: ` +
      'run this model with --executor runtime or litert, or quantize the float model with flexq (per-tensor weights)',
  );
}
