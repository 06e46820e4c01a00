// IR op → integer kernel: the one table of what the integer runtime executes (the interface is in kernel.ts).

import type { KernelFactory } from './kernel.js';
import { addKernel } from './add.js';
import { averagePoolKernel } from './average-pool.js';
import { concatKernel } from './concat.js';
import { conv2dKernel } from './conv2d.js';
import { convTransposeKernel } from './conv-transpose.js';
import { gemmKernel, matmulKernel } from './gemm.js';
import { globalAveragePoolKernel } from './global-average-pool.js';
import { lookupTableKernel } from './lut.js';
import { maxPoolKernel } from './max-pool.js';
import { mulKernel } from './mul.js';
import { padKernel } from './pad.js';
import { reshapeKernel } from './reshape.js';
import { resizeKernel } from './resize.js';
import { softmaxKernel } from './softmax.js';
import { transposeKernel } from './transpose.js';

export const KERNELS: ReadonlyMap<string, KernelFactory> = new Map<string, KernelFactory>([
  ['Conv', conv2dKernel],
  ['ConvTranspose', convTransposeKernel],
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
  ['LeakyRelu', lookupTableKernel],
  ['Tanh', lookupTableKernel],
  ['Elu', lookupTableKernel],
  ['Softmax', softmaxKernel],
  ['Reshape', reshapeKernel],
  ['Flatten', reshapeKernel],
  ['Squeeze', reshapeKernel],
  ['Unsqueeze', reshapeKernel],
  ['Identity', reshapeKernel],
  ['Concat', concatKernel],
  ['Pad', padKernel],
  ['Transpose', transposeKernel],
  ['Resize', resizeKernel],
]);

export type { Kernel, KernelContext, KernelFactory } from './kernel.js';
