// Gemm (fully connected) and MatMul by a constant, and the GEMM core that the convolutions share.
// Contract, for input rows x[n, k], weights w[m, k] (op(B) of Gemm, or B[k, m] of MatMul) and int32 bias b[m]:
//   acc[n, m] = b[m] + Σ_k (x[n, k] − zx)·(w[m, k] − zw)      int32; wraps like the C kernels if it ever overflows
//   y[n, m]   = requantizer.apply(acc[n, m])                    M = sx·sw/sy, clamp range of the fused activation
//                                                               (through the staircase below: the same answers, faster)
// The clamp range is TFLite's CalculateActivationRangeQuantized: none → [qmin, qmax]; relu → [max(qmin, zy), qmax];
// relu6 → [max(qmin, zy), min(qmax, zy + TfLiteRound(fp32(6 / sy)))]. The tflite modes take the real multiplier as
// TFLite's per-tensor FullyConnected does (the float32 product sx·sw first: tfliteFullyConnectedMultiplier);
// onnx and a100 use their modes' scales (QGemm / QLinearMatMul: fp32(fp32(sx·sw)/sy); a100: see requant/a100.ts);
// tflite-xnnpack, XNNPACK's fully-connected operator, too: requant/tflite-xnnpack.ts.
// Gemm needs alpha = beta = 1 and transA = 0 (what the passes leave); the bias must be the int32 one at scale sx·sw.

import type { Node } from '../../src/ir/graph.js';
import { weightScaleOf, type ActivationQuant, type QuantizedWeight } from '../../src/ir/quantized-graph.js';
import { sizeOf } from '../../src/ir/shape.js';
import {
  INT32_MAX,
  prepareRequantizer,
  requantizeFp32,
  tfliteDoubleFromMultiplier,
  tfliteFullyConnectedMultiplier,
  tfliteSingleFromMultiplier,
  type OutputRange,
  type RequantMode,
  type RequantParams,
  type Requantizer,
} from '../requant/index.js';
import { roundHalfAwayFromZero } from '../quantize-input.js';
import type { Kernel, KernelContext, KernelFactory } from './kernel.js';

export type FusedActivation = 'none' | 'relu' | 'relu6';

/** TFLite's CalculateActivationRangeQuantized for a fused activation on the output grid (see the contract above). */
export function fusedActivationRange(activation: FusedActivation, grid: ActivationQuant): OutputRange {
  const { zeroPoint, qmin, qmax } = grid;
  if (activation === 'none') return { zeroPoint, min: qmin, max: qmax };
  const min = Math.max(qmin, zeroPoint);
  if (activation === 'relu') return { zeroPoint, min, max: qmax };
  return { zeroPoint, min, max: Math.min(qmax, zeroPoint + roundHalfAwayFromZero(Math.fround(6 / Math.fround(grid.scale)))) };
}

/** The node's fused activation, checked. */
export function activationOf(ctx: KernelContext): FusedActivation {
  const a = ctx.node.attrs.activation ?? 'none';
  if (a !== 'none' && a !== 'relu' && a !== 'relu6') return ctx.unsupported(`fused activation '${String(a)}' is not supported; supported: none, relu, relu6`);
  return a;
}

/** The requantizer of a fully-connected layer: TFLite computes its real multiplier from the float32 product sx·sw. */
function fullyConnectedRequantizer(mode: RequantMode, p: RequantParams): Requantizer {
  if (mode === 'tflite-double') return tfliteDoubleFromMultiplier(tfliteFullyConnectedMultiplier(p.inputScale, p.weightScale, p.outputScale), p);
  if (mode === 'tflite-single' || mode === 'tflite-builtin') return tfliteSingleFromMultiplier(tfliteFullyConnectedMultiplier(p.inputScale, p.weightScale, p.outputScale), p);
  return prepareRequantizer(mode, p);
}

/**
 * A requantizer as a staircase. Every mode's requantization is a non-decreasing function of the accumulator (a
 * positive multiply, rounding and clamping are all monotone) wherever the tflite left shift cannot wrap int32, so the
 * output is the highest k whose threshold t[k] = min{acc : apply(acc) ≥ k} the accumulator reaches. The thresholds
 * are found once by binary search with apply itself, so the staircase is exact by construction; a lookup costs
 * ~10 ns where the fixed-point apply costs 100+ ns. Accumulators outside [−bound, bound] go to apply.
 * An fp32 rule (constants.kind 'fp32': the fp32 epilogue, requant/fp32-epilogue.ts) is cheaper to run than to look
 * up: its staircase has no steps and climb runs the epilogue on its constants.
 */
export interface Staircase {
  readonly requantizer: Requantizer;
  /** Whether climb runs the fp32 epilogue with scale and zeroPoint instead of looking up a step. */
  readonly direct: boolean;
  readonly scale: number;
  readonly zeroPoint: number;
  readonly bound: number;
  readonly min: number;
  readonly max: number;
  /** t[k − min] for k in (min, max] (bound + 1 when never reached, which may exceed int32); entry 0 is unused. */
  readonly thresholds: Float64Array;
  /** The first step and the inverse width of a step: where to start looking. */
  readonly origin: number;
  readonly inverseStep: number;
}

/** The staircase of `rq` for accumulators up to `maxAbsAcc` in magnitude. */
export function staircase(rq: Requantizer, maxAbsAcc: number): Staircase {
  const { min, max, zeroPoint } = rq.constants;
  if (rq.constants.kind === 'fp32') return { requantizer: rq, direct: true, scale: rq.constants.scale, zeroPoint, bound: 0, min, max, thresholds: new Float64Array(0), origin: 0, inverseStep: 0 };
  const shift = rq.constants.kind === 'fixed-point' ? Math.max(rq.constants.shift, 0) : 0;
  const bound = Math.min(maxAbsAcc, Math.floor(INT32_MAX / 2 ** shift)); // beyond it, acc · 2^shift would wrap
  const thresholds = new Float64Array(max - min + 1);
  let previous = -bound;
  let width = 0;
  for (let k = min + 1; k <= max; k++) {
    // Steps are nearly equal in width: look first where the last step's width predicts, then widen the bracket.
    const t = firstReaching(rq, k, previous, bound, previous + width);
    width = k > min + 1 ? t - previous : 0;
    thresholds[k - min] = previous = t;
  }
  const span = thresholds[max - min] - thresholds[1];
  return { requantizer: rq, direct: false, scale: 0, zeroPoint, bound, min, max, thresholds, origin: thresholds[1], inverseStep: span > 0 ? (max - min - 1) / span : 0 };
}

/**
 * min{acc ∈ [lo, bound] : apply(acc) ≥ k}, or bound + 1 when none; apply is non-decreasing and apply(lo − 1) < k.
 * Gallops from `guess` to a bracket, then bisects it: a few applies per step when the guess is good.
 */
function firstReaching(rq: Requantizer, k: number, lo: number, bound: number, guess: number): number {
  let [low, high] = [lo, bound + 1]; // low − 1 does not reach, high does
  let probe = Math.min(Math.max(guess, low), high);
  for (let step = 1; probe >= low && probe < high; step *= 2) {
    if (reaches(rq, k, bound, probe)) {
      high = probe;
      probe -= step;
    } else {
      low = probe + 1;
      probe += step;
    }
  }
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (reaches(rq, k, bound, mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Whether `acc` requantizes to k or more; past the bound counts as reaching. (Not a closure: firstReaching runs once per step of every channel.) */
function reaches(rq: Requantizer, k: number, bound: number, acc: number): boolean {
  return acc > bound || rq.apply(acc) >= k;
}

/**
 * One staircase per output channel: a per-tensor requantizer is shared by all of them, a per-channel list (from a
 * per-channel weight grid) gives each channel its own.
 */
export function channelStaircases(rq: Requantizer | readonly Requantizer[], channels: number, maxAbsAcc: number): readonly Staircase[] {
  if (!Array.isArray(rq)) return new Array<Staircase>(channels).fill(staircase(rq as Requantizer, maxAbsAcc));
  const list = rq as readonly Requantizer[];
  if (list.length !== channels) throw new Error(`${list.length} requantizers for ${channels} output channels; give one per channel`);
  return list.map((r) => staircase(r, maxAbsAcc));
}

/** rq.apply(acc): an fp32 rule directly, any other through the staircase (estimate the step, then walk to the exact one). */
export function climb(s: Staircase, acc: number): number {
  if (s.direct) return requantizeFp32(acc, s.scale, s.zeroPoint, s.min, s.max);
  if (acc < -s.bound || acc > s.bound) return s.requantizer.apply(acc);
  const { thresholds: t, min, max } = s;
  let k = min + 1 + Math.floor((acc - s.origin) * s.inverseStep);
  if (k < min) k = min;
  else if (k > max) k = max;
  while (k < max && acc >= t[k + 1 - min]) k++;
  while (k > min && acc < t[k - min]) k--;
  return k;
}

/** The largest |bias[m] + Σ_k (x − zx)·(w[m, k] − zw)| any int8 input can produce, over channels m. */
export function accumulatorBound(weights: Int8Array, channels: number, depth: number, weightZeroPoint: number, bias: Int32Array | undefined): number {
  let bound = 0;
  for (let m = 0; m < channels; m++) {
    let sum = Math.abs(bias?.[m] ?? 0);
    for (let k = 0; k < depth; k++) sum += 255 * Math.abs(weights[m * depth + k] - weightZeroPoint);
    bound = Math.max(bound, sum);
  }
  return bound;
}

/**
 * Weights minus their zero point for `channels` outputs × `depth`, in panels of four channels interleaved:
 * panel j holds channels 4j … 4j+3 as [depth][4]; channels past the last are zero. Doubles, so the GEMM multiplies
 * them by packed pairs of pixels without converting.
 */
export interface PackedWeights {
  readonly data: Float64Array;
  readonly channels: number;
  readonly depth: number;
  /** Ends of the runs of depth over which no lane of a packed sum can reach LANE_LIMIT; the last is depth. */
  readonly segments: Int32Array;
}

/**
 * Two int32 sums share one double, low + high · 2^26: products and sums of such pairs stay exact and separable
 * while each lane's magnitude stays below 2^25 (|total| < 2^51 < 2^53), so one multiply-add serves two pixels.
 */
export const LANE = 2 ** 26;
const LANE_LIMIT = 2 ** 25;
/** The largest |x − zx| of int8 x and zero point. */
const MAX_CENTRED_INPUT = 255;

/** Packs rows [channels][depth] of `values` starting at `offset`. */
export function packWeights(values: Int8Array, offset: number, channels: number, depth: number, zeroPoint: number): PackedWeights {
  const data = new Float64Array(Math.ceil(channels / 4) * 4 * depth);
  for (let m = 0; m < channels; m++)
    for (let k = 0; k < depth; k++) data[((m >> 2) * depth + k) * 4 + (m & 3)] = values[offset + m * depth + k] - zeroPoint;
  return { data, channels, depth, segments: laneSafeSegments(data, depth) };
}

/** Splits the depth where the next tap could carry some lane past LANE_LIMIT (a single tap never can: 255² < 2^25). */
function laneSafeSegments(panels: Float64Array, depth: number): Int32Array {
  const largest = new Float64Array(depth); // max over channels of |w[m, k]|
  for (let i = 0; i < panels.length; i++) {
    const k = (i >> 2) % depth;
    largest[k] = Math.max(largest[k], Math.abs(panels[i]));
  }
  const ends: number[] = [];
  let reach = 0;
  for (let k = 0; k < depth; k++) {
    const tap = MAX_CENTRED_INPUT * largest[k];
    if (reach + tap >= LANE_LIMIT) {
      ends.push(k);
      reach = 0;
    }
    reach += tap;
  }
  ends.push(depth);
  return Int32Array.from(ends);
}

/**
 * The left-hand side of a GEMM, which the caller fills: centred inputs (x − zx) of pixels p and p+1 (even p) as one
 * double per tap, pairs[(p/2)·depth + k] = row_p[k] + row_{p+1}[k]·2^26 (lanePair), for pixels rounded up to four:
 * rows past the pixels are computed and dropped.
 */
export interface GemmLhs {
  readonly pairs: Float64Array;
  /** Four pixels × four channels of int32 sums. */
  readonly sums: Float64Array;
}

export function gemmLhs(pixels: number, depth: number): GemmLhs {
  return { pairs: new Float64Array(Math.ceil(pixels / 4) * 2 * depth), sums: new Float64Array(16) };
}

/** One packed pair: `low` in the low lane, `high` in the high one; pass hasHigh = 0 for a lone last pixel. */
export function lanePair(low: number, high: number, hasHigh: number): number {
  return low + high * hasHigh * LANE;
}

/**
 * Fills lhs pairs with x[first + p·pixelStride + k·depthStride] − zx for `pixels` pixels × `depth` taps
 * (fully-connected rows: pixelStride depth, depthStride 1; a pointwise conv's NCHW planes: 1, pixels).
 */
export function centredPairs(x: Int8Array, zeroPoint: number, first: number, pixelStride: number, depthStride: number, pixels: number, depth: number, lhs: GemmLhs): void {
  const { pairs } = lhs;
  for (let p = 0, i = 0; p < pixels; p += 2) {
    const hasHigh = p + 1 < pixels ? 1 : 0;
    const low = first + p * pixelStride;
    const high = low + hasHigh * pixelStride;
    for (let k = 0; k < depth; k++) pairs[i++] = lanePair(x[low + k * depthStride] - zeroPoint, x[high + k * depthStride] - zeroPoint, hasHigh);
  }
}

/** Where GEMM results land: output[offset + m·channelStride + p·pixelStride]. */
export interface GemmOutput {
  readonly data: Int8Array;
  readonly offset: number;
  readonly channelStride: number;
  readonly pixelStride: number;
}

/**
 * out[m, p] = requantize(bias[biasOffset + m] + Σ_k row_p[k]·w[m, k]) for p < pixels and every channel m (rows: GemmLhs).
 * Four pixels (two packed pairs) × four channels per step keep eight doubles, sixteen sums, in registers.
 */
export function gemmRequantize(lhs: GemmLhs, pixels: number, w: PackedWeights, bias: Int32Array, biasOffset: number, rq: readonly Staircase[], out: GemmOutput): void {
  const { data: panels, channels, depth, segments } = w;
  const { pairs, sums } = lhs;
  for (let p = 0; p < pixels; p += 4) {
    const x0 = (p >> 1) * depth;
    const x1 = x0 + depth;
    for (let m = 0; m < channels; m += 4) {
      sums.fill(0);
      for (let s = 0, start = 0; s < segments.length; start = segments[s++]) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (let k = start, wk = m * depth + 4 * start, end = segments[s]; k < end; k++, wk += 4) {
          const w0 = panels[wk], w1 = panels[wk + 1], w2 = panels[wk + 2], w3 = panels[wk + 3];
          const u = pairs[x0 + k];
          const v = pairs[x1 + k];
          a0 += w0 * u; a1 += w1 * u; a2 += w2 * u; a3 += w3 * u;
          b0 += w0 * v; b1 += w1 * v; b2 += w2 * v; b3 += w3 * v;
        }
        addLanes(sums, 0, a0); addLanes(sums, 1, a1); addLanes(sums, 2, a2); addLanes(sums, 3, a3);
        addLanes(sums, 8, b0); addLanes(sums, 9, b1); addLanes(sums, 10, b2); addLanes(sums, 11, b3);
      }
      storeTile(out, p, Math.min(4, pixels - p), m, Math.min(4, channels - m), sums, bias, biasOffset + m, rq);
    }
  }
}

/** The high lane of a packed sum whose low lane is within ±2^25 (less than half a step of the high one); low = packed − high·2^26. */
export function laneHigh(packed: number): number {
  return Math.round(packed / LANE);
}

/** Adds the two lanes of `packed` to sums[at] (low: the even pixel) and sums[at + 4] (high: the odd pixel). */
function addLanes(sums: Float64Array, at: number, packed: number): void {
  const high = laneHigh(packed);
  sums[at] += packed - high * LANE;
  sums[at + 4] += high;
}

/** Adds the bias (int32 wrap, as C does), requantizes with each channel's staircase and stores a tile of sums[pixel·4 + channel]. */
function storeTile(out: GemmOutput, p: number, pixelCount: number, m: number, channelCount: number, sums: Float64Array, bias: Int32Array, b: number, rq: readonly Staircase[]): void {
  const { data: y, channelStride, pixelStride } = out;
  for (let c = 0; c < channelCount; c++) {
    const o = out.offset + (m + c) * channelStride + p * pixelStride;
    for (let i = 0; i < pixelCount; i++) y[o + i * pixelStride] = climb(rq[b + c], (sums[i * 4 + c] + bias[b + c]) | 0);
  }
}

/** Rows centred per block, so eval needs no buffer that grows with the batch. */
const ROWS_PER_BLOCK = 32;

export interface FullyConnectedParams {
  /** K: values per input row. */
  readonly depth: number;
  /** M: outputs per row. */
  readonly units: number;
  readonly inputZeroPoint: number;
  /** [units][depth], row-major. */
  readonly weights: Int8Array;
  readonly weightZeroPoint: number;
  /** int32 at scale sx·sw, one per unit; absent means zero. */
  readonly bias?: Int32Array;
  /** One for every unit (per-tensor weights) or one per unit (per-channel weights). */
  readonly requantizer: Requantizer | readonly Requantizer[];
}

export interface PreparedFullyConnected {
  readonly weights: PackedWeights;
  readonly bias: Int32Array;
  readonly inputZeroPoint: number;
  /** One per unit. */
  readonly requantizers: readonly Staircase[];
  readonly lhs: GemmLhs;
}

export function prepareFullyConnected(p: FullyConnectedParams): PreparedFullyConnected {
  return {
    weights: packWeights(p.weights, 0, p.units, p.depth, p.weightZeroPoint),
    bias: p.bias ?? new Int32Array(p.units),
    inputZeroPoint: p.inputZeroPoint,
    requantizers: channelStaircases(p.requantizer, p.units, accumulatorBound(p.weights, p.units, p.depth, p.weightZeroPoint, p.bias)),
    lhs: gemmLhs(ROWS_PER_BLOCK, p.depth),
  };
}

/** y[rows][units] from x[rows][depth]. */
export function fullyConnected(f: PreparedFullyConnected, x: Int8Array, rows: number, y: Int8Array): void {
  const { depth, channels } = f.weights;
  for (let r0 = 0; r0 < rows; r0 += ROWS_PER_BLOCK) {
    const count = Math.min(ROWS_PER_BLOCK, rows - r0);
    centredPairs(x, f.inputZeroPoint, r0 * depth, depth, 1, count, depth, f.lhs);
    gemmRequantize(f.lhs, count, f.weights, f.bias, 0, f.requantizers, { data: y, offset: r0 * channels, channelStride: 1, pixelStride: channels });
  }
}

/** The int32 bias of constant input i, checked against the scale each channel's accumulator has. */
export function checkedBias(ctx: KernelContext, i: number, units: number, inputScale: number, w: QuantizedWeight): Int32Array | undefined {
  const b = ctx.bias(i);
  if (!b) return undefined;
  if (b.values.length !== units) return ctx.unsupported(`the bias has ${b.values.length} values for ${units} outputs; give one per output`);
  for (let m = 0; m < units; m++) {
    const expected = Math.fround(inputScale * weightScaleOf(w, m));
    if (!nearlyEqualScales(weightScaleOf(b, m), expected))
      return ctx.unsupported(`the bias scale ${weightScaleOf(b, m)} of output ${m} is not input scale × weight scale = ${expected}; re-quantize the model`);
  }
  return b.values;
}

/** Scales equal up to float32 rounding of their product (the TFLite converter rounds s_in·s_w from double). */
function nearlyEqualScales(a: number, b: number): boolean {
  return Math.abs(a - b) <= 2 ** -22 * Math.abs(b);
}

/**
 * The requantizers of a weighted layer's output channels: one for all (per-tensor weights) or one per channel, each
 * from the real multiplier s_in·s_w[m]/s_out (TFLite's per-channel kernels, XNNPACK's qc8, onnxruntime per axis).
 */
export function layerRequantizers(w: QuantizedWeight, channels: number, prepare: (weightScale: number) => Requantizer): Requantizer | Requantizer[] {
  if (!w.channelScales) return prepare(w.scale);
  return Array.from({ length: channels }, (_, m) => prepare(w.channelScales![m]));
}

/** A fully-connected layer's requantizers: TFLite's per-channel FullyConnected takes the conv multiplier (the mode's own rule); per tensor, its own. */
export function fullyConnectedLayerRequantizers(mode: RequantMode, w: QuantizedWeight, units: number, p: Omit<RequantParams, 'weightScale'>): Requantizer | Requantizer[] {
  return layerRequantizers(w, units, (weightScale) => (w.channelScales ? prepareRequantizer(mode, { ...p, weightScale }) : fullyConnectedRequantizer(mode, { ...p, weightScale })));
}

function fullyConnectedKernel(ctx: KernelContext, p: Omit<FullyConnectedParams, 'requantizer'>, activation: FusedActivation): Kernel {
  const x = ctx.inputGrid(0);
  const w = ctx.weight(1);
  const range = fusedActivationRange(activation, ctx.outputGrid);
  const requantizer = fullyConnectedLayerRequantizers(ctx.mode, w, p.units, { inputScale: x.scale, outputScale: ctx.outputGrid.scale, ...range });
  const f = prepareFullyConnected({ ...p, requantizer });
  const rowsPerSample = sizeOf(ctx.inputShape(0)) / p.depth;
  return (inputs, batch, output) => fullyConnected(f, inputs[0], batch * rowsPerSample, output);
}

export const gemmKernel: KernelFactory = (ctx) => {
  const { attrs } = ctx.node;
  if ((attrs.alpha ?? 1) !== 1 || (attrs.beta ?? 1) !== 1) ctx.unsupported(`alpha ${String(attrs.alpha ?? 1)} and beta ${String(attrs.beta ?? 1)}: the integer Gemm needs both to be 1; fold them into the weights and bias`);
  if ((attrs.transA ?? 0) !== 0) ctx.unsupported('transA = 1: the integer Gemm reads A row by row; transpose A before the Gemm');
  const w = ctx.weight(1);
  if (w.shape.length !== 2) ctx.unsupported(`weight of shape [${w.shape.join(',')}]: the integer Gemm needs a 2-D weight`);
  const { units, depth, values: weights } = unitMajorWeights(ctx.node, w);
  const bias = checkedBias(ctx, 2, units, ctx.inputGrid(0).scale, w);
  return fullyConnectedKernel(ctx, { depth, units, inputZeroPoint: ctx.inputGrid(0).zeroPoint, weights, weightZeroPoint: w.zeroPoint, bias }, activationOf(ctx));
};

/** MatMul(A[..., K], B[K, N]) with B a quantized constant: a Gemm without bias over every row of A. */
export const matmulKernel: KernelFactory = (ctx) => {
  const w = ctx.weight(1);
  if (w.shape.length !== 2) ctx.unsupported(`weight B of shape [${w.shape.join(',')}]: the integer MatMul needs a 2-D constant B`);
  const { units, depth, values: weights } = unitMajorWeights(ctx.node, w);
  if (ctx.inputShape(0).at(-1) !== depth) ctx.unsupported(`input A of shape [N,${ctx.inputShape(0).join(',')}] does not end in K = ${depth}, the rows of B`);
  return fullyConnectedKernel(ctx, { depth, units, inputZeroPoint: ctx.inputGrid(0).zeroPoint, weights, weightZeroPoint: w.zeroPoint }, 'none');
};

/**
 * The weight of a Gemm (B, or Bᵀ with transB) or of a MatMul by a constant B[K, N] as [units][depth]: the one
 * layout every fully-connected kernel (runtime, C, A100) reads.
 */
export function unitMajorWeights(node: Node, w: QuantizedWeight): { readonly units: number; readonly depth: number; readonly values: Int8Array } {
  if (node.op === 'Gemm' && (node.attrs.transB ?? 0) === 1) return { units: w.shape[0], depth: w.shape[1], values: w.values };
  const [depth, units] = w.shape;
  return { units, depth, values: transpose2d(w.values, depth, units) };
}

/** [rows][cols] → [cols][rows]. */
function transpose2d(values: Int8Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
