// ConvTranspose: the transposed 2-D convolution of int8 NCHW inputs with per-tensor int8 weights W[C, M, kh, kw]
// (one group), strides, dilations and explicit crops (MediaPipe's Convolution2DTransposeBias, ONNX ConvTranspose).
// Contract, for output channel m and each input pixel (iy, ix) scattered through each tap (ky, kx):
//   acc[m, iy·sh − pt + ky·dh, ix·sw − pl + kx·dw] += (x[c, iy, ix] − zx)·(w[c, m, ky, kx] − zw)   (inside the output)
//   acc starts at b[m] (int32 at sx·sw); y = requantizer.apply(acc) with M = sx·sw/sy, the mode's rule (requant/),
//   clamped to the fused activation's range, as Conv (conv2d.ts) and TFLite's int8 TRANSPOSE_CONV do.
//   tflite-builtin: the interpreters' built-in int8 TRANSPOSE_CONV rounds twice (tflite-double), as their depthwise
//   kernel does (requant/tflite-builtin.ts): measured against LiteRT.js 2.5.3 and tfjs-tflite (single rounding: ~0.3 % differ).

import { intAttr, intsAttr } from '../../src/ops/contract.js';
import { window2d, type Window2d } from '../../src/ops/window.js';
import { prepareRequantizer } from '../requant/index.js';
import { activationOf, checkedBias, climb, fusedActivationRange, staircase, type Staircase } from './gemm.js';
import type { KernelFactory } from './kernel.js';

export interface PreparedConvTranspose {
  readonly inputShape: readonly [number, number, number];
  readonly outputShape: readonly [number, number, number];
  readonly window: Window2d;
  readonly inputZeroPoint: number;
  /** [C][M][kh][kw], the weight zero point subtracted. */
  readonly weights: Int16Array;
  readonly bias: Int32Array;
  readonly requantizer: Staircase;
  /** One sample's accumulators, [M][OH][OW]. */
  readonly acc: Int32Array;
}

export function convTranspose2d(p: PreparedConvTranspose, x: Int8Array, batch: number, y: Int8Array): void {
  const [channels, height, width] = p.inputShape;
  const [outChannels, outHeight, outWidth] = p.outputShape;
  const [kh, kw] = p.window.kernel;
  const [sh, sw] = p.window.strides;
  const [dh, dw] = p.window.dilations;
  const [top, left] = p.window.pads;
  const { acc, weights, bias } = p;
  const plane = outHeight * outWidth;
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < outChannels; m++) acc.fill(bias[m], m * plane, (m + 1) * plane);
    const xb = b * channels * height * width;
    for (let c = 0; c < channels; c++) {
      for (let iy = 0; iy < height; iy++) {
        for (let ix = 0; ix < width; ix++) {
          const v = x[xb + (c * height + iy) * width + ix] - p.inputZeroPoint;
          if (v === 0) continue;
          for (let ky = 0; ky < kh; ky++) {
            const oy = iy * sh - top + ky * dh;
            if (oy < 0 || oy >= outHeight) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ox = ix * sw - left + kx * dw;
              if (ox < 0 || ox >= outWidth) continue;
              const tap = ky * kw + kx;
              for (let m = 0; m < outChannels; m++) acc[m * plane + oy * outWidth + ox] += v * weights[(c * outChannels + m) * kh * kw + tap];
            }
          }
        }
      }
    }
    const yb = b * acc.length;
    for (let i = 0; i < acc.length; i++) y[yb + i] = climb(p.requantizer, acc[i] | 0);
  }
}

export const convTransposeKernel: KernelFactory = (ctx) => {
  const [channels, height, width] = ctx.inputShape(0);
  const [outChannels, outHeight, outWidth] = ctx.outputShape;
  const window = window2d(ctx.node);
  if (intAttr(ctx.node, 'group', 1) !== 1) ctx.unsupported(`group ${String(ctx.node.attrs.group)}: the integer ConvTranspose supports group 1`);
  if (intsAttr(ctx.node, 'outputPadding', [0, 0]).some((p) => p !== 0)) ctx.unsupported('output_padding: the integer ConvTranspose supports none');
  const x = ctx.inputGrid(0);
  const w = ctx.weight(1);
  const expected = [channels, outChannels, ...window.kernel];
  if (ctx.inputShape(0).length !== 3 || w.shape.join() !== expected.join())
    ctx.unsupported(`weight shape [${w.shape.join(',')}] does not fit input [N,${ctx.inputShape(0).join(',')}]; expected [${expected.join(',')}]`);
  if (w.channelScales) ctx.unsupported('per-channel weights: the integer ConvTranspose takes one weight scale; quantize the weight per tensor');
  const range = fusedActivationRange(activationOf(ctx), ctx.outputGrid);
  const requantizer = prepareRequantizer(ctx.mode === 'tflite-builtin' ? 'tflite-double' : ctx.mode, { inputScale: x.scale, weightScale: w.scale, outputScale: ctx.outputGrid.scale, ...range });
  const bias = checkedBias(ctx, 2, outChannels, x.scale, w) ?? new Int32Array(outChannels);
  const weights = Int16Array.from(w.values, (v) => v - w.zeroPoint);
  // Each output gathers at most ⌈kh/sh⌉·⌈kw/sw⌉ taps per input channel; the staircase covers any sum of all of them.
  let bound = 0;
  for (let m = 0; m < outChannels; m++) {
    let sum = Math.abs(bias[m]);
    for (let c = 0; c < channels; c++) for (let t = 0; t < window.kernel[0] * window.kernel[1]; t++) sum += 255 * Math.abs(weights[(c * outChannels + m) * window.kernel[0] * window.kernel[1] + t]);
    bound = Math.max(bound, sum);
  }
  const prepared: PreparedConvTranspose = {
    inputShape: [channels, height, width],
    outputShape: [outChannels, outHeight, outWidth],
    window,
    inputZeroPoint: x.zeroPoint,
    weights,
    bias,
    requantizer: staircase(requantizer, bound),
    acc: new Int32Array(outChannels * outHeight * outWidth),
  };
  return (inputs, batch, output) => convTranspose2d(prepared, inputs[0], batch, output);
};
