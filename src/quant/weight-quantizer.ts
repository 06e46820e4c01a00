import type { QuantizedWeight } from '../ir/quantized-graph.js';

/**
 * Where each element of a weight tensor sits: its output channel and (for convolutions) its input channel.
 * Conv weights are OIHW; Gemm/MatMul weights are [K, N] (or [N, K] with transB), so the output axis differs.
 */
export interface WeightLayout {
  readonly size: number;
  readonly outChannels: number;
  /** Input channels per group for a convolution (1 for depthwise), 0 for a matrix product (no s4). */
  readonly inChannels: number;
  readonly outOf: (i: number) => number;
  readonly inOf: (i: number) => number;
}

export function convLayout(shape: readonly number[]): WeightLayout {
  const [o, c, h, w] = shape;
  const perOut = c * h * w;
  const perIn = h * w;
  return { size: o * perOut, outChannels: o, inChannels: c, outOf: (i) => Math.floor(i / perOut), inOf: (i) => Math.floor(i / perIn) % c };
}

/** A matrix-product weight whose output axis is `outAxis` (1 for [K, N], 0 for [N, K]). */
export function matrixLayout(shape: readonly number[], outAxis: 0 | 1): WeightLayout {
  const [rows, cols] = shape;
  const outOf = outAxis === 0 ? (i: number) => Math.floor(i / cols) : (i: number) => i % cols;
  return { size: rows * cols, outChannels: outAxis === 0 ? rows : cols, inChannels: 0, outOf, inOf: () => 0 };
}

/**
 * A learnable rounding of one weight tensor (FlexRound, AdaRound, AdaQuant): its parameters, the weight it
 * currently stands for, the gradient of its parameters given ∂L/∂Ŵ, and the integers it settles on.
 */
export interface WeightQuantizer {
  readonly params: readonly Float64Array[];
  /** The factor of the run's learning rate for these parameters; 1 when absent. */
  readonly rateScale?: number;
  /** Ŵ = scale · q for the current parameters, in the layer's weight layout. */
  weight(): Float32Array;
  /** ∂L/∂params for ∂L/∂Ŵ of the last weight() call, plus any regulariser's gradient at this iteration. */
  gradients(dw: Float32Array, iteration: number): Float64Array[];
  /** The regulariser's value at this iteration (0 when the method has none); reported, not optimised here. */
  regularizer(iteration: number): number;
  /** The integers and grid after training. */
  finish(): QuantizedWeight;
}

/** What every method is built from: the float weight, its layout, its RTN grid (the starting point) and range. */
export interface QuantizerInit {
  readonly w: Float32Array;
  readonly shape: readonly number[];
  readonly layout: WeightLayout;
  readonly rtn: QuantizedWeight;
  /** Iterations the optimisation will run (AdaRound anneals its regulariser over them). */
  readonly iterations: number;
  /** The weight width the run's learning rate is set for (its --wbits); a layer of another width may scale it. */
  readonly rateBits: number;
}
