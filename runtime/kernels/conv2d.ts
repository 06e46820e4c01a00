// Conv: 2-D convolution of int8 NCHW inputs with per-tensor int8 weights, groups (depthwise with channel
// multipliers included), strides, dilations and explicit pads.
// Contract, for output channel m in group g, input channels c of that group and window taps (ky, kx):
//   acc[m, oy, ox] = b[m] + Σ_{c,ky,kx} (x[c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw] − zx)·(w[m, c, ky, kx] − zw)
//   int32 (wraps like the C kernels); a padded position holds the zero point, so it contributes zero.
//   y[m, oy, ox] = requantizer.apply(acc)   M = sx·sw/sy (the mode's rule, requant/), clamp range of the fused
//   activation (TFLite's CalculateActivationRangeQuantized: gemm.ts fusedActivationRange), looked up through the
//   requantizer's staircase (gemm.ts), which gives apply's answer for every accumulator.
// Three loop nests compute this same sum: pointwise (1×1, stride 1, no pads, one group: a GEMM on the transposed
// input), depthwise (one input channel per group: per-channel multiply-adds over shifted rows), and im2col + GEMM
// for everything else. Zero points are subtracted once, into an int16 copy with zero borders. The GEMM and the 3×3
// depthwise nest carry two pixels in each double (gemm.ts lanePair): one multiply-add serves both.

import { intAttr } from '../../src/ops/contract.js';
import { window2d, type Window2d } from '../../src/ops/window.js';
import { prepareRequantizer, type Requantizer } from '../requant/index.js';
import {
  accumulatorBound,
  activationOf,
  checkedBias,
  channelStaircases,
  climb,
  fusedActivationRange,
  centredPairs,
  gemmRequantize,
  gemmLhs,
  LANE,
  laneHigh,
  lanePair,
  layerRequantizers,
  packWeights,
  type GemmLhs,
  type PackedWeights,
  type Staircase,
} from './gemm.js';
import type { KernelFactory } from './kernel.js';

export interface Conv2dParams {
  /** [C, H, W] of one sample. */
  readonly inputShape: readonly [number, number, number];
  /** [M, OH, OW] of one sample. */
  readonly outputShape: readonly [number, number, number];
  readonly window: Window2d;
  readonly group: number;
  readonly inputZeroPoint: number;
  /** [M][C/group][kh][kw]. */
  readonly weights: Int8Array;
  readonly weightZeroPoint: number;
  /** int32 at scale sx·sw, one per output channel; absent means zero. */
  readonly bias?: Int32Array;
  /** One for every output channel (per-tensor weights) or one per output channel (per-channel weights). */
  readonly requantizer: Requantizer | readonly Requantizer[];
}

/** The geometry every path needs, with the zero-padded input's extent. */
interface Geometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly outChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly window: Window2d;
  readonly paddedHeight: number;
  readonly paddedWidth: number;
}

interface Common {
  readonly geometry: Geometry;
  readonly inputZeroPoint: number;
  readonly bias: Int32Array;
  /** One per output channel. */
  readonly requantizers: readonly Staircase[];
}

/** 1×1, stride 1, no pads, one group: y = W · (x − zx) with pixels as GEMM rows. */
interface Pointwise extends Common {
  readonly path: 'pointwise';
  readonly weights: PackedWeights;
  /** Pixels as rows [pixels][C]: the centred input, transposed. */
  readonly lhs: GemmLhs;
}

/** One input channel per group (C = group), M = C·multiplier. */
interface Depthwise extends Common {
  readonly path: 'depthwise';
  readonly multiplier: number;
  /** [M][kh·kw], centred. */
  readonly weights: Int16Array;
  readonly padded: Int16Array;
  readonly acc: Int32Array;
  /** One padded plane as lane pairs (gemm.ts lanePair): the inputs of output columns ox and ox+1 in one double. */
  readonly columnPairs: Float64Array;
}

/** Any other convolution: per group, gather windows into rows (im2col) and run the GEMM. */
interface Im2col extends Common {
  readonly path: 'im2col';
  readonly group: number;
  /** One panel set per group. */
  readonly weights: readonly PackedWeights[];
  readonly padded: Int16Array;
  /** Windows as rows [pixels][C/group · kh · kw]. */
  readonly lhs: GemmLhs;
}

export type PreparedConv2d = Pointwise | Depthwise | Im2col;

export function prepareConv2d(p: Conv2dParams): PreparedConv2d {
  const [channels, height, width] = p.inputShape;
  const [outChannels, outHeight, outWidth] = p.outputShape;
  const { kernel, strides, pads } = p.window;
  const geometry: Geometry = {
    channels, height, width, outChannels, outHeight, outWidth, window: p.window,
    paddedHeight: height + pads[0] + pads[2],
    paddedWidth: width + pads[1] + pads[3],
  };
  const taps = kernel[0] * kernel[1];
  const groupChannels = channels / p.group;
  const depth = groupChannels * taps;
  const bound = accumulatorBound(p.weights, outChannels, depth, p.weightZeroPoint, p.bias);
  const common: Common = { geometry, inputZeroPoint: p.inputZeroPoint, bias: p.bias ?? new Int32Array(outChannels), requantizers: channelStaircases(p.requantizer, outChannels, bound) };
  const pixels = outHeight * outWidth;
  const padded = (): Int16Array => new Int16Array(channels * geometry.paddedHeight * geometry.paddedWidth);
  const isPointwise = taps === 1 && p.group === 1 && strides.every((s) => s === 1) && pads.every((x) => x === 0);
  if (isPointwise) {
    return { ...common, path: 'pointwise', weights: packWeights(p.weights, 0, outChannels, channels, p.weightZeroPoint), lhs: gemmLhs(pixels, channels) };
  }
  // One input channel per group is depthwise; a single group of one channel (a stem on a mono input) runs faster as im2col.
  if (groupChannels === 1 && p.group > 1) {
    const weights = Int16Array.from(p.weights, (w) => w - p.weightZeroPoint);
    return { ...common, path: 'depthwise', multiplier: outChannels / channels, weights, padded: padded(), acc: new Int32Array(pixels), columnPairs: new Float64Array(geometry.paddedHeight * geometry.paddedWidth) };
  }
  const groupOut = outChannels / p.group;
  const weights = Array.from({ length: p.group }, (_, g) => packWeights(p.weights, g * groupOut * depth, groupOut, depth, p.weightZeroPoint));
  return { ...common, path: 'im2col', group: p.group, weights, padded: padded(), lhs: gemmLhs(pixels, depth) };
}

/** Runs `batch` samples of x [N, C, H, W] into y [N, M, OH, OW]. */
export function conv2d(c: PreparedConv2d, x: Int8Array, batch: number, y: Int8Array): void {
  const g = c.geometry;
  const inSize = g.channels * g.height * g.width;
  const outSize = g.outChannels * g.outHeight * g.outWidth;
  for (let n = 0; n < batch; n++) {
    if (c.path === 'pointwise') pointwise(c, x, n * inSize, y, n * outSize);
    else if (c.path === 'depthwise') depthwise(c, x, n * inSize, y, n * outSize);
    else im2colConv(c, x, n * inSize, y, n * outSize);
  }
}

function pointwise(c: Pointwise, x: Int8Array, xOffset: number, y: Int8Array, yOffset: number): void {
  const { channels, outHeight, outWidth } = c.geometry;
  const pixels = outHeight * outWidth;
  centredPairs(x, c.inputZeroPoint, xOffset, 1, pixels, pixels, channels, c.lhs);
  gemmRequantize(c.lhs, pixels, c.weights, c.bias, 0, c.requantizers, { data: y, offset: yOffset, channelStride: pixels, pixelStride: 1 });
}

/** Copies one sample minus the zero point into the interior of the zero-bordered buffer (borders are never written). */
function padAndCentre(g: Geometry, zeroPoint: number, x: Int8Array, xOffset: number, padded: Int16Array): void {
  const { channels, height, width, paddedHeight, paddedWidth } = g;
  const [top, left] = g.window.pads;
  for (let ch = 0; ch < channels; ch++) {
    for (let row = 0; row < height; row++) {
      const src = xOffset + (ch * height + row) * width;
      const dst = (ch * paddedHeight + row + top) * paddedWidth + left;
      for (let col = 0; col < width; col++) padded[dst + col] = x[src + col] - zeroPoint;
    }
  }
}

function depthwise(c: Depthwise, x: Int8Array, xOffset: number, y: Int8Array, yOffset: number): void {
  const g = c.geometry;
  const pixels = g.outHeight * g.outWidth;
  const [kh, kw] = g.window.kernel;
  const planeSize = g.paddedHeight * g.paddedWidth;
  padAndCentre(g, c.inputZeroPoint, x, xOffset, c.padded);
  for (let m = 0; m < g.outChannels; m++) {
    const plane = Math.floor(m / c.multiplier) * planeSize;
    if (kh !== 3 || kw !== 3) depthwiseAnySize(c, plane, m, y, yOffset + m * pixels);
    else {
      if (m % c.multiplier === 0) pairColumns(c.padded, plane, planeSize, g.window.strides[1], c.columnPairs);
      depthwise3x3(c, m, y, yOffset + m * pixels);
    }
  }
}

/** pairs[i] = padded[plane + i] + padded[plane + i + stride]·2^26 (the high lane is 0 past the plane's end). */
function pairColumns(padded: Int16Array, plane: number, planeSize: number, stride: number, pairs: Float64Array): void {
  const paired = Math.max(planeSize - stride, 0);
  for (let i = 0; i < paired; i++) pairs[i] = lanePair(padded[plane + i], padded[plane + i + stride], 1);
  for (let i = paired; i < planeSize; i++) pairs[i] = padded[plane + i];
}

/**
 * One output channel of a 3×3 depthwise conv on column pairs: the nine weights stay in registers and one sum
 * serves two outputs (nine taps of 255 · 255 keep each lane below 2^25). An odd last column drops its high lane.
 */
function depthwise3x3(c: Depthwise, m: number, y: Int8Array, out: number): void {
  const { outHeight, outWidth, paddedWidth, window } = c.geometry;
  const [sh, sw] = window.strides;
  const [dh, dw] = window.dilations;
  const { columnPairs: x, weights } = c;
  const requantizer = c.requantizers[m];
  const w = m * 9;
  const w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2];
  const w3 = weights[w + 3], w4 = weights[w + 4], w5 = weights[w + 5];
  const w6 = weights[w + 6], w7 = weights[w + 7], w8 = weights[w + 8];
  const bias = c.bias[m];
  const [dw2, rowStep, pairStep] = [2 * dw, dh * paddedWidth, 2 * sw];
  for (let oy = 0; oy < outHeight; oy++) {
    let r0 = oy * sh * paddedWidth;
    for (let ox = 0; ox < outWidth; ox += 2, r0 += pairStep) {
      const r1 = r0 + rowStep;
      const r2 = r1 + rowStep;
      const sum = w0 * x[r0] + w1 * x[r0 + dw] + w2 * x[r0 + dw2] + w3 * x[r1] + w4 * x[r1 + dw] + w5 * x[r1 + dw2] + w6 * x[r2] + w7 * x[r2 + dw] + w8 * x[r2 + dw2];
      const high = laneHigh(sum);
      y[out++] = climb(requantizer, (bias + (sum - high * LANE)) | 0);
      if (ox + 1 < outWidth) y[out++] = climb(requantizer, (bias + high) | 0);
    }
  }
}

/** One output channel of a depthwise conv of any window: multiply-adds of whole shifted rows into the accumulator. */
function depthwiseAnySize(c: Depthwise, plane: number, m: number, y: Int8Array, out: number): void {
  const { outHeight, outWidth, paddedWidth, window } = c.geometry;
  const [kh, kw] = window.kernel;
  const [sh, sw] = window.strides;
  const [dh, dw] = window.dilations;
  const { padded, acc, weights } = c;
  const requantizer = c.requantizers[m];
  acc.fill(c.bias[m]);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const w = weights[(m * kh + ky) * kw + kx];
      const tap = plane + ky * dh * paddedWidth + kx * dw;
      for (let oy = 0; oy < outHeight; oy++) {
        const src = tap + oy * sh * paddedWidth;
        const dst = oy * outWidth;
        for (let ox = 0; ox < outWidth; ox++) acc[dst + ox] += w * padded[src + ox * sw];
      }
    }
  }
  for (let p = 0; p < acc.length; p++) y[out + p] = climb(requantizer, acc[p]);
}

function im2colConv(c: Im2col, x: Int8Array, xOffset: number, y: Int8Array, yOffset: number): void {
  const g = c.geometry;
  const pixels = g.outHeight * g.outWidth;
  const groupOut = g.outChannels / c.group;
  padAndCentre(g, c.inputZeroPoint, x, xOffset, c.padded);
  for (let group = 0; group < c.group; group++) {
    gatherWindows(g, c.padded, group * (g.channels / c.group), g.channels / c.group, pixels, c.lhs);
    const out = { data: y, offset: yOffset + group * groupOut * pixels, channelStride: pixels, pixelStride: 1 };
    gemmRequantize(c.lhs, pixels, c.weights[group], c.bias, group * groupOut, c.requantizers, out);
  }
}

/** im2col: row p = (oy, ox) holds the window [c][ky][kx] of channels first … first+count−1; rows p, p+1 go into one pair. */
function gatherWindows(g: Geometry, padded: Int16Array, first: number, count: number, pixels: number, lhs: GemmLhs): void {
  const { outWidth, paddedHeight, paddedWidth } = g;
  const { kernel, strides, dilations } = g.window;
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const { pairs } = lhs;
  const corner = (p: number): number => Math.floor(p / outWidth) * sh * paddedWidth + (p % outWidth) * sw;
  let dst = 0;
  for (let p = 0; p < pixels; p += 2) {
    const hasHigh = p + 1 < pixels ? 1 : 0;
    const low = corner(p);
    const high = corner(p + hasHigh);
    for (let ch = first; ch < first + count; ch++) {
      const plane = ch * paddedHeight * paddedWidth;
      for (let ky = 0; ky < kh; ky++) {
        const row = plane + ky * dh * paddedWidth;
        for (let kx = 0, at = row; kx < kw; kx++, at += dw) pairs[dst++] = lanePair(padded[low + at], padded[high + at], hasHigh);
      }
    }
  }
}

export const conv2dKernel: KernelFactory = (ctx) => {
  const [channels, height, width] = ctx.inputShape(0);
  const [outChannels, outHeight, outWidth] = ctx.outputShape;
  const window = window2d(ctx.node);
  const group = intAttr(ctx.node, 'group', 1);
  const x = ctx.inputGrid(0);
  const w = ctx.weight(1);
  const expected = [outChannels, channels / group, ...window.kernel];
  if (ctx.inputShape(0).length !== 3 || w.shape.join() !== expected.join())
    ctx.unsupported(`weight shape [${w.shape.join(',')}] does not fit input [N,${ctx.inputShape(0).join(',')}] with group ${group}; expected [${expected.join(',')}]`);
  const range = fusedActivationRange(activationOf(ctx), ctx.outputGrid);
  // TFLite's built-in depthwise kernel rounds twice (requant/tflite-builtin.ts).
  const depthwise = group > 1 && group === channels;
  const requantizer = layerRequantizers(w, outChannels, (weightScale) => {
    const params = { inputScale: x.scale, weightScale, outputScale: ctx.outputGrid.scale, ...range };
    return prepareRequantizer(depthwise && ctx.mode === 'tflite-builtin' ? 'tflite-double' : ctx.mode, params);
  });
  const conv = prepareConv2d({
    inputShape: [channels, height, width],
    outputShape: [outChannels, outHeight, outWidth],
    window,
    group,
    inputZeroPoint: x.zeroPoint,
    weights: w.values,
    weightZeroPoint: w.zeroPoint,
    bias: checkedBias(ctx, 2, outChannels, x.scale, w),
    requantizer,
  });
  return (inputs, batch, output) => conv2d(conv, inputs[0], batch, output);
};
