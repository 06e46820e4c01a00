// GlobalAveragePool: the mean of each channel, requantized from the input's grid to the output's.
// Contract, per sample and channel over its H·W values:
//   acc = Σ (x − zx)                                   exact int32
//   y   = requantize(acc) with M = sx / (sy·H·W), clamp to [qmin, qmax], by the mode's rule:
//   tflite-double, tflite-single: the mode's fixed-point requantization (requant/) of M = double(sx) / (double(sy)·H·W)
//   onnx: onnxruntime's QLinearGlobalAveragePool (MLAS): the fp32 epilogue (requant/fp32-epilogue.ts) with
//         scale = fp32(sx / fp32(sy · fp32(H·W)))
//   a100: the fp32 epilogue with scale = fp32(double(sx) / (double(sy)·H·W))
// TFLite itself lowers a global mean to MEAN (or AVERAGE_POOL_2D on one grid), whose int8 kernels round in two steps;
// the tflite rule here is exact to this contract, and becomes TFLite's own when the TFLite export picks its op.

import {
  requantizeFp32,
  tfliteDoubleFromMultiplier,
  tfliteSingleFromMultiplier,
  type OutputRange,
  type RequantMode,
} from '../requant/index.js';
import type { ActivationQuant } from '../../src/quant/quantized-graph.js';
import type { KernelFactory } from './registry.js';

/** The mode's requantization of a sum of `count` centred values to their mean on the output grid. */
export function meanRequantizer(mode: RequantMode, input: ActivationQuant, output: ActivationQuant, count: number): (acc: number) => number {
  const sx = Math.fround(input.scale);
  const sy = Math.fround(output.scale);
  const range: OutputRange = { zeroPoint: output.zeroPoint, min: output.qmin, max: output.qmax };
  if (mode === 'tflite-double' || mode === 'tflite-single') {
    const fromMultiplier = mode === 'tflite-double' ? tfliteDoubleFromMultiplier : tfliteSingleFromMultiplier;
    const rq = fromMultiplier(sx / (sy * count), range);
    return (acc) => rq.apply(acc);
  }
  const scale = mode === 'onnx' ? Math.fround(sx / Math.fround(sy * Math.fround(count))) : Math.fround(sx / (sy * count));
  return (acc) => requantizeFp32(acc, scale, range.zeroPoint, range.min, range.max);
}

export function globalAveragePool(requantize: (acc: number) => number, zeroPoint: number, planeSize: number, x: Int8Array, planes: number, y: Int8Array): void {
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * planeSize;
    let acc = 0;
    for (let i = 0; i < planeSize; i++) acc += x[base + i];
    y[plane] = requantize(acc - zeroPoint * planeSize);
  }
}

export const globalAveragePoolKernel: KernelFactory = (ctx) => {
  const [channels, ...spatial] = ctx.inputShape(0);
  const planeSize = spatial.reduce((a, b) => a * b, 1);
  const input = ctx.inputGrid(0);
  const requantize = meanRequantizer(ctx.mode, input, ctx.outputGrid, planeSize);
  return (inputs, batch, output) => globalAveragePool(requantize, input.zeroPoint, planeSize, inputs[0], batch * channels, output);
};
