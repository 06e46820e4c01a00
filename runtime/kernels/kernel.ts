// The interface every integer kernel implements. A factory validates and precomputes once (Prepare); the kernel it
// returns runs blind (Eval).

import type { Node } from '../../src/ir/graph.js';
import type { ActivationQuant, QuantizedBias, QuantizedWeight } from '../../src/ir/quantized-graph.js';
import type { RequantMode } from '../../src/quant/requant-mode.js';

/** What a kernel factory sees at prepare time. Shapes are per sample: the batch dimension is dropped. */
export interface KernelContext {
  readonly mode: RequantMode;
  readonly node: Node;
  /** `model.onnx: node 'conv_3' (Conv)`, the start of every error message about this node. */
  readonly where: string;
  /** Per-sample dims of input i; for a constant operand, its shape right-aligned to the output's rank. */
  inputShape(i: number): readonly number[];
  /** Whether input i is a quantized constant operand (its integers reach the kernel as inputs[i], the same for every sample). */
  isConstant(i: number): boolean;
  readonly outputShape: readonly number[];
  /** The grid of activation input i or of a quantized constant operand; an error naming the node when input i has none. */
  inputGrid(i: number): ActivationQuant;
  readonly outputGrid: ActivationQuant;
  /** The integer weight of constant input i; an error when it was not quantized. */
  weight(i: number): QuantizedWeight;
  /** The int32 bias of constant input i, undefined when the input is omitted; an error when it was not quantized. */
  bias(i: number): QuantizedBias | undefined;
  /** Throws the UNSUPPORTED_ATTR error for this node; `what` says what was found, what is supported and what to do. */
  unsupported(what: string): never;
}

/**
 * Runs one batch of `batch` samples. `inputs[i]` holds node input i when it is an activation or a quantized constant
 * operand (an empty array for other constants, which the factory has already read). Writes every element of `output`; no checks, no allocation.
 */
export type Kernel = (inputs: readonly Int8Array[], batch: number, output: Int8Array) => void;

export type KernelFactory = (ctx: KernelContext) => Kernel;
