// IR op → integer kernel: the one table of what the integer runtime executes, and the interface every kernel implements.
// A factory validates and precomputes once (Prepare); the kernel it returns runs blind (Eval).

import type { Node } from '../../src/ir/graph.js';
import type { ActivationQuant, QuantizedBias, QuantizedWeight } from '../../src/quant/quantized-graph.js';
import type { RequantMode } from '../requant/index.js';
import { addKernel } from './add.js';
import { averagePoolKernel } from './average-pool.js';
import { concatKernel } from './concat.js';
import { conv2dKernel } from './conv2d.js';
import { gemmKernel, matmulKernel } from './gemm.js';
import { globalAveragePoolKernel } from './global-average-pool.js';
import { lookupTableKernel } from './lut.js';
import { maxPoolKernel } from './max-pool.js';
import { mulKernel } from './mul.js';
import { reshapeKernel } from './reshape.js';
import { softmaxKernel } from './softmax.js';

/** What a kernel factory sees at prepare time. Shapes are per sample: the batch dimension is dropped. */
export interface KernelContext {
  readonly mode: RequantMode;
  readonly node: Node;
  /** `model.onnx: node 'conv_3' (Conv)`, the start of every error message about this node. */
  readonly where: string;
  inputShape(i: number): readonly number[];
  readonly outputShape: readonly number[];
  /** The grid of activation input i; an error naming the node when input i is a constant or has no grid. */
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
 * Runs one batch of `batch` samples. `inputs[i]` holds node input i when it is an activation (an empty array for
 * constants, which the factory has already read). Writes every element of `output`; no checks, no allocation.
 */
export type Kernel = (inputs: readonly Int8Array[], batch: number, output: Int8Array) => void;

export type KernelFactory = (ctx: KernelContext) => Kernel;

export const KERNELS: ReadonlyMap<string, KernelFactory> = new Map<string, KernelFactory>([
  ['Conv', conv2dKernel],
  ['Gemm', gemmKernel],
  ['MatMul', matmulKernel],
  ['Add', addKernel],
  ['Mul', mulKernel],
  ['AveragePool', averagePoolKernel],
  ['GlobalAveragePool', globalAveragePoolKernel],
  ['MaxPool', maxPoolKernel],
  ['Relu', lookupTableKernel],
  ['Clip', lookupTableKernel],
  ['Sigmoid', lookupTableKernel],
  ['HardSigmoid', lookupTableKernel],
  ['HardSwish', lookupTableKernel],
  ['Softmax', softmaxKernel],
  ['Reshape', reshapeKernel],
  ['Flatten', reshapeKernel],
  ['Squeeze', reshapeKernel],
  ['Unsqueeze', reshapeKernel],
  ['Identity', reshapeKernel],
  ['Concat', concatKernel],
]);
