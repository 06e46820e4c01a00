// Resize on H and W of NCHW, on one grid. Nearest is a copy of onnxruntime's source pixels (src/ops/resize.ts
// nearestIndices) in every mode. Bilinear ('linear'): interpolating between values of one grid stays
// inside that grid's range, so input and output share scale and zero point (calibration gives Resize its input's).
// Contract, per output pixel (y, x) and channel:
//   tflite-double, tflite-single: TFLite's reference ResizeBilinearInteger on the raw int8 values, with 10-bit fixed-point positions:
//       scale10 = (1024·in + ⌊out/2⌋) div out   (align_corners: (1024·(in−1) + ⌊(out−1)/2⌋) div (out−1))
//       p = y·scale10 (+ scale10 div 2 − 512 with half_pixel_centers);  y0 = max(p div 1024, 0);
//       y1 = min((p + 1023) div 1024, in − 1);  fy = p − 1024·y0   (div truncates toward zero, as C does)
//       acc = Σ corners q·wy·wx (wy ∈ {1024 − fy, fy}, wx alike), int64 with 20 fraction bits;
//       double: (acc ± 2^19) div 2^20 (half away from zero); single: (acc + 2^19) >> 20 (half up).
//   onnx, a100: the QDQ graph's DequantizeLinear → float Resize → QuantizeLinear: onnxruntime's linear Resize in
//     fp32 (source position p clamped to [0, in − 1]; weights |p − upper| and |p − lower|, 0.5 each at the edge;
//     y = Σ (wy·wx)·X over the corners in its order), then the mode's rounding onto the grid.
//   tflite-xnnpack, tflite-builtin: XNNPACK's s8 resize: TFLite's XNNPACK delegate takes an int8 RESIZE_BILINEAR
//     with a constant size (no weights) on both CPU paths of LiteRT.js and tfjs-tflite; fp32 positions, 11-bit weights,
//       scale = fp32((in − a) / (out − a)), a = 1 with align_corners (out > 1), else 0
//       p = fp32(o·scale); half_pixel: p = clamp(fp32(p + fp32(fp32(0.5·scale) − 0.5)), 0, in − 1)
//       lower = ⌊p⌋, upper = min(lower + 1, in − 1), w = rne(fp32(p − lower)·2^11)
//       t = (x00 << 11) + (x01 − x00)·wx, b = (x10 << 11) + (x11 − x10)·wx;  y = ((t << 11) + (b − t)·wy + 2^21) >> 22
//     measured byte-equal to LiteRT.js 2.5.3 and tfjs-tflite on both paths (test/targets/tflite).
// asymmetric (TF1's default, neither flag): p = y·scale10 / y·in/out.

import type { Node } from '../../src/ir/graph.js';
import { stringAttr } from '../../src/ops/contract.js';
import { nearestAttributes, nearestIndices } from '../../src/ops/resize.js';
import { roundHalfToEven, tfliteBuild } from '../requant/index.js';
import { gridQuantizer } from '../quantize-input.js';
import { checkSameGrid } from './average-pool.js';
import type { KernelFactory } from './kernel.js';

const COORDINATES = ['half_pixel', 'align_corners', 'asymmetric'] as const;
export type ResizeCoordinates = (typeof COORDINATES)[number];

/** One axis of the resize: for each output index, the two source rows and their weights. */
export interface ResizeAxis {
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  /** Weight of `upper`, in 1024ths for TFLite, as a float32 for onnx. */
  readonly weight: Float64Array;
  /** Weight of `lower`: 1024 − weight for TFLite; onnxruntime's |p − upper| (0.5 each where lower = upper). */
  readonly lowerWeight: Float64Array;
}

/** TFLite's ComputeInterpolationValuesInteger over one axis. */
export function tfliteAxis(input: number, output: number, coordinates: ResizeCoordinates): ResizeAxis {
  const scale10 =
    coordinates === 'align_corners' && output > 1
      ? Math.trunc((1024 * (input - 1) + Math.trunc((output - 1) / 2)) / (output - 1))
      : Math.trunc((1024 * input + Math.trunc(output / 2)) / output);
  const axis = { lower: new Int32Array(output), upper: new Int32Array(output), weight: new Float64Array(output), lowerWeight: new Float64Array(output) };
  for (let o = 0; o < output; o++) {
    const p = coordinates === 'half_pixel' ? o * scale10 + Math.trunc(scale10 / 2) - 512 : o * scale10;
    const lower = Math.max(Math.trunc(p / 1024), 0);
    axis.lower[o] = lower;
    axis.upper[o] = Math.min(Math.trunc((p + 1023) / 1024), input - 1);
    axis.weight[o] = p - 1024 * lower;
    axis.lowerWeight[o] = 1024 - axis.weight[o];
  }
  return axis;
}

/** onnxruntime's linear Resize over one axis, in fp32: the source position clamped to the input. */
export function onnxAxis(input: number, output: number, coordinates: ResizeCoordinates): ResizeAxis {
  const f32 = Math.fround;
  const scale = f32(output / input);
  const axis = { lower: new Int32Array(output), upper: new Int32Array(output), weight: new Float64Array(output), lowerWeight: new Float64Array(output) };
  for (let o = 0; o < output; o++) {
    const raw =
      coordinates === 'half_pixel' ? f32(f32(f32(o + 0.5) / scale) - 0.5)
      : coordinates === 'align_corners' ? (output === 1 ? 0 : f32(f32(o * (input - 1)) / (output - 1)))
      : f32(o / scale);
    const p = Math.min(Math.max(raw, 0), input - 1);
    const lower = Math.floor(p);
    const upper = Math.min(lower + 1, input - 1);
    axis.lower[o] = lower;
    axis.upper[o] = upper;
    axis.weight[o] = lower === upper ? 0.5 : f32(p - lower);
    axis.lowerWeight[o] = lower === upper ? 0.5 : f32(upper - p);
  }
  return axis;
}

/** XNNPACK's q11 positions and weights over one axis (weight in 2048ths): see the contract above. */
export function xnnpackAxis(input: number, output: number, coordinates: ResizeCoordinates): ResizeAxis {
  const f32 = Math.fround;
  const adjust = coordinates === 'align_corners' && output !== 1 ? 1 : 0;
  const scale = f32((input - adjust) / (output - adjust));
  const offset = f32(f32(0.5 * scale) - 0.5);
  const axis = { lower: new Int32Array(output), upper: new Int32Array(output), weight: new Float64Array(output), lowerWeight: new Float64Array(output) };
  for (let o = 0; o < output; o++) {
    let p = f32(o * scale);
    if (coordinates === 'half_pixel') p = Math.min(Math.max(f32(p + offset), 0), input - 1);
    const lower = Math.trunc(p);
    axis.lower[o] = lower;
    axis.upper[o] = Math.min(lower + 1, input - 1);
    axis.weight[o] = roundHalfToEven(f32(p - lower) * 2048);
    axis.lowerWeight[o] = 2048 - axis.weight[o];
  }
  return axis;
}

export interface ResizePlan {
  readonly channels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly rows: ResizeAxis;
  readonly cols: ResizeAxis;
}

/**
 * Writes every output pixel of a bilinear resize, plane by plane and row by row, as `blend` of its four source pixels
 * (top-left, bottom-left, top-right, bottom-right) at output row `oy` and column `ox`, whose weights the axes hold.
 */
function bilinear(plan: ResizePlan, x: Int8Array, batch: number, y: Int8Array, blend: (tl: number, bl: number, tr: number, br: number, oy: number, ox: number) => number): void {
  const { channels, inHeight, inWidth, rows, cols } = plan;
  const outHeight = rows.lower.length;
  const outWidth = cols.lower.length;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * inHeight * inWidth;
    for (let oy = 0; oy < outHeight; oy++) {
      const r0 = base + rows.lower[oy] * inWidth;
      const r1 = base + rows.upper[oy] * inWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        const c0 = cols.lower[ox];
        const c1 = cols.upper[ox];
        y[o++] = blend(x[r0 + c0], x[r1 + c0], x[r0 + c1], x[r1 + c1], oy, ox);
      }
    }
  }
}

/** TFLite's integer interpolation; `single` picks the single-rounding build's (acc + 2^19) >> 20. */
export function resizeTflite(plan: ResizePlan, single: boolean, x: Int8Array, batch: number, y: Int8Array): void {
  const { rows, cols } = plan;
  bilinear(plan, x, batch, y, (tl, bl, tr, br, oy, ox) => {
    const fy = rows.weight[oy];
    const gy = rows.lowerWeight[oy];
    const fx = cols.weight[ox];
    const gx = cols.lowerWeight[ox];
    // At most 127·2^20 in magnitude: exact in a double.
    const acc = tl * gy * gx + bl * fy * gx + tr * gy * fx + br * fy * fx;
    return single ? Math.floor((acc + 524288) / 1048576) : Math.trunc((acc + (acc > 0 ? 524288 : -524288)) / 1048576);
  });
}

/** XNNPACK's s8 bilinear interpolation: two 11-bit lerps in int32 (|acc| < 2^30), rounded half up by 2^22. */
export function resizeXnnpack(plan: ResizePlan, x: Int8Array, batch: number, y: Int8Array): void {
  const { rows, cols } = plan;
  bilinear(plan, x, batch, y, (tl, bl, tr, br, oy, ox) => {
    const wx = cols.weight[ox];
    const wy = rows.weight[oy];
    const top = tl * 2048 + (tr - tl) * wx;
    const bottom = bl * 2048 + (br - bl) * wx;
    return (top * 2048 + (bottom - top) * wy + 2097152) >> 22;
  });
}

/** Dequantize, interpolate in fp32, quantize with the mode's rounding (`quantize`). */
export function resizeDequantized(plan: ResizePlan, zeroPoint: number, scale: number, quantize: (v: number) => number, x: Int8Array, batch: number, y: Int8Array): void {
  const f32 = Math.fround;
  const { rows, cols } = plan;
  const dq = (q: number) => f32((q - zeroPoint) * scale);
  bilinear(plan, x, batch, y, (tl, bl, tr, br, oy, ox) => {
    const dy1 = rows.weight[oy];
    const dy2 = rows.lowerWeight[oy];
    const dx1 = cols.weight[ox];
    const dx2 = cols.lowerWeight[ox];
    // onnxruntime's order: (dx·dy)·X per corner, summed left to right, each step in fp32.
    return quantize(f32(f32(f32(f32(f32(dx2 * dy2) * dq(tl)) + f32(f32(dx1 * dy2) * dq(tr))) + f32(f32(dx2 * dy1) * dq(bl))) + f32(f32(dx1 * dy1) * dq(br))));
  });
}

/** Nearest: every output copies its source pixel (rows[oy], cols[ox]) of the same plane; one grid, so every mode alike. */
export function resizeNearest(plan: NearestPlan, x: Int8Array, batch: number, y: Int8Array): void {
  const { channels, inHeight, inWidth, rows, cols } = plan;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * inHeight * inWidth;
    for (let oy = 0; oy < rows.length; oy++) {
      const row = base + rows[oy] * inWidth;
      for (let ox = 0; ox < cols.length; ox++) y[o++] = x[row + cols[ox]];
    }
  }
}

/** A nearest Resize's copy plan: onnxruntime's source row of each output row and column of each output column. */
export interface NearestPlan {
  readonly channels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly rows: Int32Array;
  readonly cols: Int32Array;
}

/** The nearest plan of a Resize node over per-sample NCHW shapes [C,H,W] (the C lowering reads it too). */
export function nearestPlan(node: Node, input: readonly number[], output: readonly number[]): NearestPlan {
  const { coordinates, nearest } = nearestAttributes(node);
  const [channels, inHeight, inWidth] = input;
  return { channels, inHeight, inWidth, rows: nearestIndices(inHeight, output[1], coordinates, nearest), cols: nearestIndices(inWidth, output[2], coordinates, nearest) };
}

export const resizeKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  const mode = stringAttr(ctx.node, 'mode', 'nearest');
  const [channels, inHeight, inWidth] = ctx.inputShape(0);
  const [outChannels, outHeight, outWidth] = ctx.outputShape;
  if (ctx.inputShape(0).length !== 3 || outChannels !== channels) ctx.unsupported('a resize of other axes than H and W of an NCHW input');
  if (mode === 'nearest') {
    const plan = nearestPlan(ctx.node, ctx.inputShape(0), ctx.outputShape);
    return (inputs, batch, output) => resizeNearest(plan, inputs[0], batch, output);
  }
  if (mode !== 'linear') ctx.unsupported(`mode '${mode}': the integer Resize supports 'nearest' and 'linear' (bilinear)`);
  const named = stringAttr(ctx.node, 'coordinateTransformationMode', 'half_pixel');
  const coordinates = COORDINATES.find((c) => c === named) ?? ctx.unsupported(`coordinate_transformation_mode '${named}'; supported: ${COORDINATES.join(', ')}`);
  if (ctx.mode === 'tflite-xnnpack' || ctx.mode === 'tflite-builtin') {
    const plan = { channels, inHeight, inWidth, rows: xnnpackAxis(inHeight, outHeight, coordinates), cols: xnnpackAxis(inWidth, outWidth, coordinates) };
    return (inputs, batch, output) => resizeXnnpack(plan, inputs[0], batch, output);
  }
  const build = tfliteBuild(ctx.mode);
  const axis = build ? tfliteAxis : onnxAxis;
  const plan = { channels, inHeight, inWidth, rows: axis(inHeight, outHeight, coordinates), cols: axis(inWidth, outWidth, coordinates) };
  if (build) return (inputs, batch, output) => resizeTflite(plan, build === 'tflite-single', inputs[0], batch, output);
  const grid = ctx.inputGrid(0);
  const quantize = gridQuantizer(ctx.mode, grid);
  return (inputs, batch, output) => resizeDequantized(plan, grid.zeroPoint, Math.fround(grid.scale), quantize, inputs[0], batch, output);
};
