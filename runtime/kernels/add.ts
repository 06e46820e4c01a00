// Add of two int8 activations on their own grids, with numpy broadcasting, into the output grid.
// Contract, per output element from raw int8 operands a (grid sa, za) and b (grid sb, zb), output grid (sy, zy):
// tflite-double, tflite-single: TFLite's int8 ADD (kernels/add.cc Prepare, reference_integer_ops::AddFunc):
//   twice_max = 2·max(sa, sb) (double); left_shift = 20
//   (qa, ea) = QuantizeMultiplierSmallerThanOneExp(sa / twice_max), the same for b, and
//   (qy, ey) = QuantizeMultiplierSmallerThanOneExp(twice_max / (2^20 · sy))
//   a' = MBQMSmallerThanOneExp((a − za)·2^20, qa, ea), b' likewise
//   y  = clamp(MBQMSmallerThanOneExp(a' + b', qy, ey) + zy, qmin, qmax)
//   where MBQMSmallerThanOneExp is RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, q), −e) in the default
//   build (tflite-double) and the single-rounding MultiplyByQuantizedMultiplier under TFLITE_SINGLE_ROUNDING.
// tflite-xnnpack, tflite-builtin: XNNPACK's qs8 vadd (what TFLite's XNNPACK delegate runs an int8 ADD with; an ADD has
// no weights to keep it off the delegate, so LiteRT.js and tfjs-tflite run it there on the built-in path too), fixed point:
//   ra = fp32(sa / sy), rb = fp32(sb / sy); shift = 20 − exponent(max(ra, rb))        (float32 exponent, unbiased)
//   ma = lrint(ra · 2^shift), mb = lrint(rb · 2^shift)                                  (round half to even)
//   bias = 2^(shift−1) − ma·za − mb·zb;  y = clamp(((bias + a·ma + b·mb) >> shift) + zy)  (arithmetic shift)
//   Checked against LiteRT.js 2.5.3 on MobileNetV2's ten int8 ADDs (216,384 outputs, 0 mismatches); TFLite's own
//   ADD (above) differs from it in about one output in 10^5 (Selfie Segmentation's residual adds on the built-in path:
//   76 of 131,072 mask bytes on 2 photos, per-channel W8A8 with bias correction).
// onnx, a100: onnxruntime's QLinearAdd (what ORT fuses a QDQ Add into) on x86-64 with AVX2, MlasQLinearAddKernelAvx2:
//   ra = fp32(sa / sy), rb = fp32(sb / sy); fixed = fp32(zy − fma(ra, za, fp32(rb·zb)))   (float32 throughout)
//   both spanning:       v = fma(a, ra, fma(b, rb, fixed))
//   b one per span:      v = fma(a, ra, fp32(fixed + fp32(b·rb)))    (and symmetrically when a is the scalar)
//   y = clamp(rne(v), qmin, qmax)                                      rne: round half to even (cvtps2dq)
//   fma rounds once; whether an operand is "one per span" is how ORT's broadcaster splits the shapes (broadcastPlan).
//   Checked bit-exact against onnxruntime-node 1.30 on 16 M random elements, all three span kinds. ORT's SSE2-only and
//   wasm builds round differently (no fma, or a float divide by sy); a100 uses the same arithmetic as onnx.
// The onnx mode's Add node does not run QLinearAdd: QLinearAdd rounds differently per ORT build (AVX2 above; wasm:
//   rne(fp32(fp32(sa·(a−za)) + fp32(sb·(b−zb))) / sy) + zy; NEON: fixed point), so flexq's QDQ export writes the add
//   as Sum, which ORT does not fuse and runs in float32 between DQ and Q on every build (onnxFloatAdd):
//   y = clamp(rne(fp32(fp32(fp32(sa·(a−za)) + fp32(sb·(b−zb))) / sy)) + zy, qmin, qmax)

import { sizeOf } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import {
  multiplyByQuantizedMultiplierDouble,
  multiplyByQuantizedMultiplierSingle,
  quantizeMultiplier,
  quantizeMultiplierSingleRounding,
  roundHalfToEven,
  tfliteDoubleFromMultiplier,
  tfliteBuild,
  tfliteSingleFromMultiplier,
  type RequantMode,
} from '../requant/index.js';
import { gridQuantizer } from '../quantize-input.js';
import { climb, staircase } from './gemm.js';
import type { KernelContext, KernelFactory } from './kernel.js';

/** One output integer from the two raw int8 operands. */
export type BinaryElement = (a: number, b: number) => number;

/** Which operand onnxruntime's broadcaster hands to the kernel as a single value per contiguous span. */
export type SpanKind = 'both' | 'a-scalar' | 'b-scalar';

/** Numpy broadcasting of two per-sample shapes, precomputed: where each output element reads its operands. */
export interface BroadcastPlan {
  readonly outSize: number;
  /** Elements from one sample of the operand to the next (0 for a constant operand). */
  readonly aSize: number;
  readonly bSize: number;
  /** Operand index of each output element, or undefined when the operand has the output's shape. */
  readonly aIndex?: Int32Array;
  readonly bIndex?: Int32Array;
  readonly span: SpanKind;
}

export function broadcastPlan(a: readonly number[], b: readonly number[], out: readonly number[]): BroadcastPlan {
  const same = (s: readonly number[]) => s.length === out.length && s.every((d, i) => d === out[i]);
  return {
    outSize: sizeOf(out),
    aSize: sizeOf(a),
    bSize: sizeOf(b),
    aIndex: same(a) ? undefined : operandIndex(a, out),
    bIndex: same(b) ? undefined : operandIndex(b, out),
    span: spanKind(a, b, out),
  };
}

function operandIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const padded = [...Array<number>(out.length - shape.length).fill(1), ...shape];
  const strides = padded.map((d, k) => (d === 1 ? 0 : sizeOf(padded.slice(k + 1))));
  const index = new Int32Array(sizeOf(out));
  for (let i = 0; i < index.length; i++) {
    let rest = i;
    let at = 0;
    for (let k = out.length - 1; k >= 0; k--) {
      at += (rest % out[k]) * strides[k];
      rest = Math.floor(rest / out[k]);
    }
    index[i] = at;
  }
  return index;
}

/** ORT's spans are the innermost output dimensions; an operand of size 1 along the innermost one above 1 is a scalar per span. */
function spanKind(a: readonly number[], b: readonly number[], out: readonly number[]): SpanKind {
  for (let k = out.length - 1; k >= 0; k--) {
    if (out[k] === 1) continue;
    if ((a[k - (out.length - a.length)] ?? 1) === 1) return 'a-scalar';
    if ((b[k - (out.length - b.length)] ?? 1) === 1) return 'b-scalar';
    return 'both';
  }
  return 'both';
}

/** Applies `element` over a batch with the plan's broadcasting. */
export function runBinary(plan: BroadcastPlan, element: BinaryElement, a: Int8Array, b: Int8Array, batch: number, y: Int8Array): void {
  const { outSize, aSize, bSize, aIndex, bIndex } = plan;
  for (let n = 0; n < batch; n++) {
    const ao = n * aSize;
    const bo = n * bSize;
    const yo = n * outSize;
    if (!aIndex && !bIndex) {
      for (let i = 0; i < outSize; i++) y[yo + i] = element(a[ao + i], b[bo + i]);
    } else {
      for (let i = 0; i < outSize; i++) y[yo + i] = element(a[ao + (aIndex ? aIndex[i] : i)], b[bo + (bIndex ? bIndex[i] : i)]);
    }
  }
}

const clamp = (v: number, grid: ActivationQuant): number => (v < grid.qmin ? grid.qmin : v > grid.qmax ? grid.qmax : v);

/** One ADD operand's rescaling: (q − zero point)·2^leftShift times a quantized multiplier. */
export interface AddOperand {
  readonly zeroPoint: number;
  readonly multiplier: number;
  readonly shift: number;
}

/** TFLite's int8 ADD constants (Prepare): the one source the runtime and the C lowering read. */
export interface TfliteAddConstants {
  readonly leftShift: number;
  readonly a: AddOperand;
  readonly b: AddOperand;
  /** twice_max / (2^leftShift · sy), below 1. */
  readonly outputMultiplier: number;
}

/**
 * twice_max = 2·max(sa, sb); operand multipliers sa/twice_max and sb/twice_max (the build's QuantizeMultiplier);
 * output multiplier twice_max / (2^20·sy), left shift 20.
 */
export function tfliteAddConstants(build: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): TfliteAddConstants {
  const leftShift = 20;
  const twiceMaxInputScale = 2 * Math.max(Math.fround(a.scale), Math.fround(b.scale));
  const outputMultiplier = twiceMaxInputScale / (2 ** leftShift * Math.fround(y.scale));
  if (!(outputMultiplier < 1)) throw new Error(`ADD output multiplier ${outputMultiplier} must be below 1 (output scale ${y.scale} is too small for inputs ${a.scale}, ${b.scale})`);
  const quantize = build === 'tflite-double' ? quantizeMultiplier : quantizeMultiplierSingleRounding;
  const operand = (grid: ActivationQuant): AddOperand => ({ zeroPoint: grid.zeroPoint, ...quantize(Math.fround(grid.scale) / twiceMaxInputScale) });
  return { leftShift, a: operand(a), b: operand(b), outputMultiplier };
}

/** TFLite's int8 ADD, both builds: see the contract above. The per-operand rescaling depends on one int8, so it is a table. */
export function tfliteAdd(mode: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const c = tfliteAddConstants(mode, a, b, y);
  const [multiply, fromMultiplier] = mode === 'tflite-double'
    ? [multiplyByQuantizedMultiplierDouble, tfliteDoubleFromMultiplier]
    : [multiplyByQuantizedMultiplierSingle, tfliteSingleFromMultiplier];
  const rescaled = (o: AddOperand): Int32Array =>
    Int32Array.from({ length: 256 }, (_, i) => multiply((i - 128 - o.zeroPoint) * 2 ** c.leftShift, o.multiplier, o.shift));
  const scaledA = rescaled(c.a);
  const scaledB = rescaled(c.b);
  // The output step is the mode's requantizer of the sum: MBQM(sum, QuantizeMultiplier(outputMultiplier)) + zy, clamped.
  const output = fromMultiplier(c.outputMultiplier, { zeroPoint: y.zeroPoint, min: y.qmin, max: y.qmax });
  const largest = (t: Int32Array) => t.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const steps = staircase(output, largest(scaledA) + largest(scaledB));
  return (qa, qb) => climb(steps, scaledA[qa + 128] + scaledB[qb + 128]);
}

/** onnxruntime's QLinearAdd (AVX2 kernel), used by the onnx and a100 modes: see the contract above. */
export function onnxAdd(span: SpanKind, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const f32 = Math.fround;
  const ra = f32(f32(a.scale) / f32(y.scale));
  const rb = f32(f32(b.scale) / f32(y.scale));
  const fixed = f32(y.zeroPoint - fmaFloat32(ra, a.zeroPoint, f32(rb * b.zeroPoint)));
  if (span === 'b-scalar') return (qa, qb) => clamp(roundHalfToEven(fmaFloat32(qa, ra, f32(fixed + f32(qb * rb)))), y);
  if (span === 'a-scalar') return (qa, qb) => clamp(roundHalfToEven(fmaFloat32(qb, rb, f32(fixed + f32(qa * ra)))), y);
  return (qa, qb) => clamp(roundHalfToEven(fmaFloat32(qa, ra, fmaFloat32(qb, rb, fixed))), y);
}

const F32 = new Float32Array(1);
const F32_BITS = new Int32Array(F32.buffer);

/** The float32 next to r (r ≠ 0, finite) in the direction of `towards`. */
function float32Neighbour(r: number, towards: number): number {
  F32[0] = r;
  F32_BITS[0] += (towards > r) === (r > 0) ? 1 : -1;
  return F32[0];
}

/**
 * fp32(x·m + c) with one rounding, as a float32 FMA computes it. x·m must be exact in double (an int8 times a
 * float32 is); the double sum is exact except in rare cases, which TwoSum's error term settles at a float32 tie.
 */
export function fmaFloat32(x: number, m: number, c: number): number {
  const product = x * m;
  const sum = product + c;
  const rounded = Math.fround(sum);
  if (rounded === sum) return rounded;
  const virtualC = sum - product;
  const error = product - (sum - virtualC) + (c - virtualC);
  if (error === 0) return rounded;
  const other = float32Neighbour(rounded, sum);
  if (Math.abs(sum - rounded) !== Math.abs(other - sum)) return rounded;
  return (error > 0) === (other > rounded) ? other : rounded;
}

/** XNNPACK's qs8 add's integer multipliers, shift and bias (see the contract above): the one source the runtime and the C read. */
export interface XnnpackAddConstants {
  readonly aMultiplier: number;
  readonly bMultiplier: number;
  readonly shift: number;
  readonly bias: number;
}

export function xnnpackAddConstants(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): XnnpackAddConstants {
  const f32 = Math.fround;
  const ra = f32(f32(a.scale) / f32(y.scale));
  const rb = f32(f32(b.scale) / f32(y.scale));
  const shift = 20 - Math.floor(Math.log2(Math.max(ra, rb)));
  // log2 of a float32 is exact at powers of two and never crosses one elsewhere: floor gives the binary exponent.
  const aMultiplier = roundHalfToEven(ra * 2 ** shift);
  const bMultiplier = roundHalfToEven(rb * 2 ** shift);
  return { aMultiplier, bMultiplier, shift, bias: 2 ** (shift - 1) - aMultiplier * a.zeroPoint - bMultiplier * b.zeroPoint };
}

/** XNNPACK's qs8 add, the tflite-xnnpack mode's: see the contract above. */
export function xnnpackAdd(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const { aMultiplier: ma, bMultiplier: mb, shift, bias } = xnnpackAddConstants(a, b, y);
  return (qa, qb) => clamp(Math.floor((bias + qa * ma + qb * mb) / 2 ** shift) + y.zeroPoint, y);
}

/** The add arithmetic of a mode. */
export function addElement(mode: RequantMode, span: SpanKind, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  if (mode === 'tflite-xnnpack' || mode === 'tflite-builtin') return xnnpackAdd(a, b, y);
  const build = tfliteBuild(mode);
  return build ? tfliteAdd(build, a, b, y) : onnxAdd(span, a, b, y);
}

/**
 * The broadcast plan of a binary node's two inputs (activations, both batched, so both of the output's rank; or a
 * constant operand, the same for every sample: no step from one sample to the next).
 */
export function binaryPlan(ctx: KernelContext): BroadcastPlan {
  const [a, b] = [ctx.inputShape(0), ctx.inputShape(1)];
  if (a.length !== ctx.outputShape.length || b.length !== ctx.outputShape.length)
    ctx.unsupported(`operands of rank ${a.length + 1} and ${b.length + 1} for an output of rank ${ctx.outputShape.length + 1}: both operands must have the output's rank; add an Unsqueeze`);
  const plan = broadcastPlan(a, b, ctx.outputShape);
  return { ...plan, aSize: ctx.isConstant(0) ? 0 : plan.aSize, bSize: ctx.isConstant(1) ? 0 : plan.bSize };
}

/** DequantizeLinear → float Add → QuantizeLinear, as onnxruntime runs the QDQ export's Sum: see the contract above. */
export function onnxFloatAdd(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const dequantized = (g: ActivationQuant) => Float32Array.from({ length: 256 }, (_, i) => Math.fround(g.scale) * (i - 128 - g.zeroPoint));
  const [ra, rb] = [dequantized(a), dequantized(b)];
  const quantize = gridQuantizer('onnx', y);
  return (qa, qb) => quantize(Math.fround(ra[qa + 128] + rb[qb + 128]));
}

export const addKernel: KernelFactory = (ctx) => {
  const plan = binaryPlan(ctx);
  const [a, b] = [ctx.inputGrid(0), ctx.inputGrid(1)];
  const element = ctx.mode === 'onnx' ? onnxFloatAdd(a, b, ctx.outputGrid) : addElement(ctx.mode, plan.span, a, b, ctx.outputGrid);
  return (inputs, batch, output) => runBinary(plan, element, inputs[0], inputs[1], batch, output);
};
