// GlobalAveragePool: the mean of each channel, requantized from the input's grid to the output's.
// Contract, per sample and channel over its H·W values:
//   acc = Σ (x − zx)                                   exact int32
//   y   = requantize(acc) with M = sx / (sy·H·W), clamp to [qmin, qmax], by the mode's rule:
//   tflite-double, tflite-single: the mode's fixed-point requantization (requant/) of M = double(sx) / (double(sy)·H·W)
//   onnx: onnxruntime's QLinearGlobalAveragePool (MLAS): the fp32 epilogue (requant/fp32-epilogue.ts) with
//         scale = fp32(sx / fp32(sy · fp32(H·W)))
//   a100: the fp32 epilogue with scale = fp32(double(sx) / (double(sy)·H·W))
//   tflite-builtin: TFLite's optimized int8 MEAN over H, W (optimized_integer_ops::Mean, the default build's two
//         roundings), as LiteRT.js 2.5.3 runs it on the built-in path (the export computes MEAN's axes there, so its
//         XNNPACK leaves the op), on the raw sum:
//         c = fp32(fp32(zx · sx) / sy); bias = zy − trunc(c > 0 ? fp32(c + ½) : fp32(c − ½))
//         (q, shift) = QuantizeMultiplier(fp32(sx / fp32(H·W · sy)))
//         y = clamp(MultiplyByQuantizedMultiplier(Σ x, q, shift) + bias)      requant/tflite-double.ts's multiply
//         Measured against LiteRT.js: ppocr-cls (100 photos) and Selfie Segmentation (8 photos), every MEAN byte-equal;
//         single rounding: ~2 of 90 means off; a truncated bias (no ±½): every mean of a layer. tfjs-tflite 0.0.1-alpha.10's
//         older built-in MEAN is the tflite-single rule above.
//   tflite-xnnpack: XNNPACK's qs8 mean as LiteRT.js 2.5.3's delegate runs MEAN, in float32 on the raw sum:
//         sc = fp32(fp32(sx / sy) · fp32(1 / (H·W))), bias = fp32(zy − fp32(fp32(zx·H·W) · sc)),
//         y = clamp(rne(fp32(fp32(fp32(Σ x) · sc) + bias)))        rne: round half to even
//         (tfjs-tflite's older XNNPACK leaves int8 MEAN to its built-in kernel: the tflite-single rule.)

import {
  multiplyByQuantizedMultiplierDouble,
  quantizeMultiplier,
  requantizeFp32,
  roundHalfToEven,
  tfliteDoubleFromMultiplier,
  tfliteBuild,
  tfliteSingleFromMultiplier,
  type OutputRange,
  type RequantMode,
} from '../requant/index.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import type { KernelFactory } from './kernel.js';

/** TFLite's mean multiplier (Prepare): M = sx / (sy·count), the one source the runtime and the C lowering read. */
export const tfliteMeanMultiplier = (input: ActivationQuant, output: ActivationQuant, count: number): number =>
  Math.fround(input.scale) / (Math.fround(output.scale) * count);

/** The mode's requantization of a sum of `count` centred values to their mean on the output grid. */
export function meanRequantizer(mode: RequantMode, input: ActivationQuant, output: ActivationQuant, count: number): (acc: number) => number {
  const sx = Math.fround(input.scale);
  const sy = Math.fround(output.scale);
  const range: OutputRange = { zeroPoint: output.zeroPoint, min: output.qmin, max: output.qmax };
  if (mode === 'tflite-xnnpack') return xnnpackMean(input, output, count);
  if (mode === 'tflite-builtin') return tfliteOptimizedMean(input, output, count);
  const build = tfliteBuild(mode);
  if (build) {
    const fromMultiplier = build === 'tflite-double' ? tfliteDoubleFromMultiplier : tfliteSingleFromMultiplier;
    const rq = fromMultiplier(tfliteMeanMultiplier(input, output, count), range);
    return (acc) => rq.apply(acc);
  }
  const scale = mode === 'onnx' ? Math.fround(sx / Math.fround(sy * Math.fround(count))) : Math.fround(sx / (sy * count));
  return (acc) => requantizeFp32(acc, scale, range.zeroPoint, range.min, range.max);
}

/** XNNPACK's qs8 mean's float32 scale and bias (see the contract above): the one source the runtime and the C read. */
export function xnnpackMeanConstants(input: ActivationQuant, output: ActivationQuant, count: number): { readonly scale: number; readonly bias: number } {
  const f32 = Math.fround;
  // XNNPACK multiplies the operator's scale by the float reciprocal of the count (update_params_mean_qs8), no divide.
  const scale = f32(f32(f32(input.scale) / f32(output.scale)) * f32(1 / count));
  return { scale, bias: f32(output.zeroPoint - f32(f32(input.zeroPoint * count) * scale)) };
}

/** XNNPACK's qs8 mean (see the contract above), from the centred sum the kernel hands over. */
function xnnpackMean(input: ActivationQuant, output: ActivationQuant, count: number): (acc: number) => number {
  const f32 = Math.fround;
  const { scale, bias } = xnnpackMeanConstants(input, output, count);
  const rawOffset = input.zeroPoint * count;
  return (acc) => {
    const y = roundHalfToEven(f32(f32(f32(acc + rawOffset) * scale) + bias));
    return y < output.qmin ? output.qmin : y > output.qmax ? output.qmax : y;
  };
}

/** TFLite's optimized int8 MEAN (see the contract above), from the centred sum the kernel hands over. */
function tfliteOptimizedMean(input: ActivationQuant, output: ActivationQuant, count: number): (acc: number) => number {
  const f32 = Math.fround;
  const [sx, sy] = [f32(input.scale), f32(output.scale)];
  const centre = f32(f32(input.zeroPoint * sx) / sy);
  const bias = output.zeroPoint - Math.trunc(centre > 0 ? f32(centre + 0.5) : f32(centre - 0.5));
  const { multiplier, shift } = quantizeMultiplier(f32(sx / f32(count * sy)));
  const rawOffset = input.zeroPoint * count;
  return (acc) => {
    const y = multiplyByQuantizedMultiplierDouble(acc + rawOffset, multiplier, shift) + bias;
    return y < output.qmin ? output.qmin : y > output.qmax ? output.qmax : y;
  };
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
