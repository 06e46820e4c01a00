// The tensor backend reconstruction runs on: the few heavy ops (convolution, matrix product) with their
// backward rules. Everything element-wise (quantizers, activations, pooling, Adam) is plain typed-array
// code shared by all backends (src/backend/typed-array-ops.ts), so backends differ only where speed lives.

import type { FloatTensor } from '../tensor.js';

/** A 2-D convolution as the IR's Conv carries it (ONNX semantics, NCHW input, OIHW weight with I = Cin / group). */
export interface ConvParams {
  readonly strides: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
  readonly dilations: readonly [number, number];
  readonly group: number;
}

/** Gradients of a convolution or matrix product with respect to its operands. */
export interface Gradients {
  /** ∂L/∂x, only when asked for (layer-wise reconstruction never needs it). */
  readonly dx?: FloatTensor;
  readonly dw: FloatTensor;
  /** ∂L/∂bias: the sum of ∂L/∂y over every axis but the channel one. */
  readonly db: Float32Array;
}

/** An activation fused into a convolution or matrix product. */
export type Activation = 'none' | 'relu' | 'relu6';

/** One op of a reconstruction unit, as a backend compiles the unit's whole step from it. Values are named. */
export type UnitOp =
  | { readonly kind: 'conv'; readonly input: string; readonly output: string; readonly weight: number; readonly bias: boolean; readonly params: ConvParams; readonly activation: Activation }
  | { readonly kind: 'gemm'; readonly input: string; readonly output: string; readonly weight: number; readonly bias: boolean; readonly activation: Activation }
  | { readonly kind: 'add'; readonly inputs: readonly [string, string]; readonly output: string }
  | { readonly kind: 'relu'; readonly input: string; readonly output: string };

/**
 * An activation fake-quantized inside a unit (LSQ: x̂ = s·clamp(round(x/s), lo, hi), round ties upward, the step s an
 * input of every step), optionally mixed with x by QDrop's 0/1 mask (1: x itself).
 */
export interface UnitQuantizer {
  readonly value: string;
  readonly lo: number;
  readonly hi: number;
  readonly qdrop: boolean;
}

/**
 * A reconstruction unit (a residual block, a separable pair) in a form a backend can compile: its ops in order,
 * the shape of every value (batch included) and of every weight (conv OIHW, gemm [N, K]), weight k being the
 * k-th conv/gemm op's.
 */
export interface UnitProgram {
  readonly input: string;
  readonly output: string;
  readonly ops: readonly UnitOp[];
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly weights: readonly (readonly number[])[];
  /** Values read inside the unit (not its input) that are fake-quantized, in the order they are first read. */
  readonly quantizers: readonly UnitQuantizer[];
}

/** Each quantizer's step and, for QDrop, its mask, for one step of a unit. */
export interface UnitQuantization {
  readonly steps: readonly number[];
  readonly masks: readonly (Uint8Array | undefined)[];
}

/** A unit's reconstruction loss and its gradients: per weight (in the program's order; biases are not learned), and for its input when asked. */
export interface UnitStep {
  readonly loss: number;
  readonly dws: readonly Float32Array[];
  readonly dx?: Float32Array;
  /** ∂L/∂log s per quantizer. */
  readonly dLogSteps: readonly number[];
}


export interface TensorBackend {
  /** 'ort-cpu', 'ort-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'tfjs-tensorflow': what `--backend auto` reports it picked. */
  readonly name: string;
  /** The GPU it runs on, for the report, when it runs on one. */
  readonly device?: string;
  /** y = conv(x, w) + bias; bias may be absent. */
  conv2d(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined, p: ConvParams): Promise<FloatTensor>;
  /** Backward of conv2d given ∂L/∂y; `needInput` asks for ∂L/∂x too. */
  conv2dBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, p: ConvParams, needInput: boolean): Promise<Gradients>;
  /** y = x · wᵀ + bias with x [M, K], w [N, K] (the IR's Gemm with transB = 1; a MatMul weight is transposed once up front). */
  gemm(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined): Promise<FloatTensor>;
  gemmBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, needInput: boolean): Promise<Gradients>;
  /**
   * Optional, for speed: a whole unit's step (forward through every op, activations, the loss Σ(y − t)² / positions
   * at its output, backward to every weight, and to its input when `needInput`) in one call, instead of a backend
   * call per op and element-wise passes over the activations; `biases[k]` belongs to weight k.
   */
  unitStep?(program: UnitProgram, x: FloatTensor, weights: readonly Float32Array[], biases: readonly (Float32Array | undefined)[], quantization: UnitQuantization, target: FloatTensor, positions: number, needInput: boolean): Promise<UnitStep>;
  /** Frees sessions and buffers. */
  dispose(): Promise<void>;
}
