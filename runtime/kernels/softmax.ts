// Softmax over one axis, from the input grid to the output grid (scale 1/256, zero point −128 from calibration).
// Contract, per slice along the axis, in every mode but tflite-double, tflite-single and onnx: v = fp32(sx·(q − zx));
// p = exp(v − max v) / Σ exp(v − max v) in double; y = the mode's float → grid quantization of p (quantize-input.ts:
// half away from zero for tflite, half to even for a100). tflite-builtin, tflite-xnnpack: byte-equal to LiteRT.js's
// and tfjs-tflite's int8 SOFTMAX on every output measured (test/targets/tflite: 15,000 random and the real models');
// their kernel is a float exp table, so a near-tie may still round apart.
// tflite-double, tflite-single: TFLite-Micro's int8 SOFTMAX, integers only (what the generated C runs, either rounding):
// see fixedPointSoftmax below. Its one requantization (d·sx, left shift only) is the same in both builds.
// onnx: onnxruntime's QLinearSoftmax (contrib_ops/cpu/quantization/qlinear_softmax.cc, opset 13), what ORT fuses
// DQ → Softmax → Q into. Per slice of D int8 values (zx cancels out):
//   shift = max(0, logf(fp32(FLT_MAX / D)) − 5) / sx                  the log in float32 (std::log's float overload),
//                                                                      the rest in double; keeps Σ below FLT_MAX
//   e(k)  = fp32(exp((shift − k)·sx)), k = max x − x ∈ [0, 255]        ORT's 256-entry table, exp in double
//   sum   = Σ e(k), float32, in element order
//   y     = min(rne(fp32(fp32(e(k)·floor(fp32(1/sy))) / sum)) + zy, qmax)

import { intAttr } from '../../src/ops/contract.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { gridQuantizer } from '../quantize-input.js';
import { INT32_MAX, quantizeMultiplier, roundHalfToEven, roundingDivideByPOT, saturatingRoundingDoublingHighMul as srdhm } from '../requant/index.js';
import type { KernelFactory } from './kernel.js';

/** The layout of a softmax: `outer` slices of `length` values along the axis, `inner` apart. */
export interface SoftmaxLayout {
  readonly outer: number;
  readonly length: number;
  readonly inner: number;
}

export function softmax(layout: SoftmaxLayout, input: ActivationQuant, quantize: (p: number) => number, x: Int8Array, batch: number, y: Int8Array, scratch: Float64Array): void {
  const { outer, length, inner } = layout;
  const scale = Math.fround(input.scale);
  for (let o = 0; o < batch * outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let max = -Infinity;
      for (let k = 0; k < length; k++) {
        const v = Math.fround(scale * (x[base + k * inner] - input.zeroPoint));
        scratch[k] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let k = 0; k < length; k++) sum += scratch[k] = Math.exp(scratch[k] - max);
      for (let k = 0; k < length; k++) y[base + k * inner] = quantize(scratch[k] / sum);
    }
  }
}

/** The largest float32. */
const FLT_MAX = 3.4028234663852886e38;

/** onnxruntime's QLinearSoftmax exp table, indexed by k = max x − x (see the contract above). */
export function ortSoftmaxTable(inputScale: number, length: number): Float32Array {
  const sx = Math.fround(inputScale);
  const shift = Math.max(0, Math.fround(Math.log(Math.fround(FLT_MAX / length))) - 5) / sx;
  return Float32Array.from({ length: 256 }, (_, k) => Math.fround(Math.exp((-k + shift) * sx)));
}

/** Calls `visit` once per softmax slice (elements base + k·inner, k < length) with the slice's largest input. */
function forEachSlice(layout: SoftmaxLayout, batch: number, x: Int8Array, visit: (base: number, max: number) => void): void {
  const { outer, length, inner } = layout;
  for (let o = 0; o < batch * outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let max = -128;
      for (let k = 0; k < length; k++) max = Math.max(max, x[base + k * inner]);
      visit(base, max);
    }
  }
}

/** onnxruntime's QLinearSoftmax on int8 (see the contract above). */
export function ortSoftmax(layout: SoftmaxLayout, table: Float32Array, output: ActivationQuant, x: Int8Array, batch: number, y: Int8Array): void {
  const { length, inner } = layout;
  const f32 = Math.fround;
  const scale = Math.floor(f32(1 / f32(output.scale)));
  forEachSlice(layout, batch, x, (base, max) => {
    let sum = 0;
    for (let k = 0; k < length; k++) sum = f32(sum + table[max - x[base + k * inner]]);
    for (let k = 0; k < length; k++) {
      const q = roundHalfToEven(f32(f32(table[max - x[base + k * inner]] * scale) / sum)) + output.zeroPoint;
      y[base + k * inner] = q > output.qmax ? output.qmax : q;
    }
  });
}

export const softmaxKernel: KernelFactory = (ctx) => {
  const shape = ctx.inputShape(0);
  const axis = normalizeAxis(intAttr(ctx.node, 'axis', -1), shape.length + 1);
  if (axis < 1 || axis > shape.length) ctx.unsupported(`axis ${String(ctx.node.attrs.axis)}: softmax over the batch dimension is not supported`);
  const layout = { outer: sizeOf(shape.slice(0, axis - 1)), length: shape[axis - 1], inner: sizeOf(shape.slice(axis)) };
  const input = ctx.inputGrid(0);
  if (ctx.mode === 'onnx') {
    const table = ortSoftmaxTable(input.scale, layout.length);
    return (inputs, batch, output) => ortSoftmax(layout, table, ctx.outputGrid, inputs[0], batch, output);
  }
  if (ctx.mode === 'tflite-double' || ctx.mode === 'tflite-single') {
    const p = prepareFixedPointSoftmax(input, ctx.outputGrid, ctx.unsupported);
    return (inputs, batch, output) => fixedPointSoftmax(layout, p, inputs[0], batch, output);
  }
  const quantize = gridQuantizer(ctx.mode, ctx.outputGrid);
  const scratch = new Float64Array(layout.length);
  return (inputs, batch, output) => softmax(layout, input, quantize, inputs[0], batch, output, scratch);
};

// ── TFLite-Micro's int8 softmax (tflite-double) ───────────────────────────────────────────────────────────────────
// Bit-exact to TFLite-Micro's reference_ops::Softmax<int8_t, int8_t> (kernels/internal/reference/softmax.h) with
// gemmlowp's fixed-point exp and reciprocal (fixedpoint/fixedpoint.h), and its Prepare (micro/kernels/
// softmax_common.cc, default build, beta = 1). Qm.n below: a raw int32 holding value · 2^n (m integer bits).
// Prepare: (multiplier, leftShift) = QuantizeMultiplier(min(double(fp32(sx))·2^26, 2^31 − 1)), leftShift ≥ 0;
//          diffMin = −floor(31·2^26 / 2^leftShift).
// Per slice: d = x − max x; slices with d < diffMin contribute nothing and output qmin;
//   a    = SRDHM(d·2^leftShift, multiplier)                      d·sx in Q5.26
//   e    = exp_on_negative_values(a)                               exp(d·sx) in Q0.31
//   sum  = Σ RoundingDivideByPOT(e, 12)                            Q12.19
//   (r, n) = GetReciprocal(sum): n = 12 − clz(sum), r = 1/(sum·2^−n) − … in Q0.31 (one_over_one_plus_x_for_x_in_0_1)
//   y    = clamp(RoundingDivideByPOT(SRDHM(r, e), n + 31 − bits) + zy, qmin, qmax)
// TFLite-Micro takes the 8-bit unit grid only (scale 1/256, zero point −128, bits = 8); the same rule with the
// output's bits serves flexq's narrower unit grids (scale 2^−bits, zero point qmin). Where n + 31 − bits exceeds 31
// (TFLite-Micro aborts there: a long slice of near-equal values) the quotient is below ½ and rounds to 0.

/** Prepared constants of the integer softmax (the C kernel's flexq_softmax_params carries the same). */
export interface FixedPointSoftmaxParams {
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  readonly diffMin: number;
  readonly outputBits: number;
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
}

/** The integer bits of the exp input (Q5.26) and of the sum of exps (Q12.19), TFLite-Micro's choice. */
const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;

/** TFLite-Micro's Prepare (see the contract above); `unsupported` names the node when the grids do not fit the rule. */
export function prepareFixedPointSoftmax(input: ActivationQuant, output: ActivationQuant, unsupported: (what: string) => never): FixedPointSoftmaxParams {
  const unitScale = Math.fround(2 ** -output.bits);
  if (Math.fround(output.scale) !== unitScale || output.zeroPoint !== output.qmin)
    unsupported(`output grid scale ${output.scale}, zero point ${output.zeroPoint}; the integer softmax writes the unit grid (scale 2^-${output.bits}, zero point ${output.qmin}): re-quantize the model`);
  const real = Math.min(Math.fround(input.scale) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  if (!(real > 1)) unsupported(`input scale ${input.scale} is below 2^-26; the integer softmax needs a larger input scale`);
  const { multiplier, shift } = quantizeMultiplier(real);
  return {
    inputMultiplier: multiplier,
    inputLeftShift: shift,
    diffMin: 0 - Math.floor((((1 << SCALED_DIFF_INTEGER_BITS) - 1) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS)) / 2 ** shift),
    outputBits: output.bits,
    zeroPoint: output.zeroPoint,
    qmin: output.qmin,
    qmax: output.qmax,
  };
}

/** gemmlowp's SaturatingRoundingMultiplyByPOT<exponent> for exponent in 1..30: a left shift that saturates. */
function saturatingShiftLeft(x: number, exponent: number): number {
  const threshold = 2 ** (31 - exponent) - 1;
  return x > threshold ? INT32_MAX : x < -threshold ? -INT32_MAX - 1 : x * 2 ** exponent;
}

/** gemmlowp's RoundingHalfSum on int32: (a + b) / 2 rounded to nearest, ties away from zero. */
function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/** exp(a) for a in [−1/4, 0), Q0.31 → Q0.31: gemmlowp's Taylor expansion around −1/8. */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(−1/8)
  const oneThird = 715827883;
  const x = (a + (1 << 28)) | 0;
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT((srdhm((x4Over4 + x3) | 0, oneThird) + x2) | 0, 1);
  return (constantTerm + srdhm(constantTerm, (x + poly) | 0)) | 0;
}

/** exp(−2^k) in Q0.31 for the bits k = −2..4 of the input's multiple of ¼ (gemmlowp's barrel shifter). */
const EXP_BARREL: readonly (readonly [number, number])[] = [[-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242]];

/** gemmlowp's exp_on_negative_values: a ≤ 0 in Q5.26 → exp(a) in Q0.31. */
export function expOnNegativeValues(a: number): number {
  const fractionalBits = 31 - SCALED_DIFF_INTEGER_BITS;
  const quarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusQuarter = ((a & (quarter - 1)) - quarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(saturatingShiftLeft(aModQuarterMinusQuarter, SCALED_DIFF_INTEGER_BITS));
  const remainder = (aModQuarterMinusQuarter - a) | 0;
  for (const [exponent, multiplier] of EXP_BARREL) if (remainder & (1 << (fractionalBits + exponent))) result = srdhm(result, multiplier);
  return a === 0 ? INT32_MAX : result;
}

/** gemmlowp's one_over_one_plus_x_for_x_in_0_1: a in [0, 1) in Q0.31 → 1/(1 + a) in Q0.31 (Newton–Raphson in Q2.29). */
export function oneOverOnePlusX(a: number): number {
  const halfDenominator = roundingHalfSum(a, INT32_MAX);
  let x = (1515870810 + srdhm(halfDenominator, -1010580540)) | 0; // 48/17 − 32/17 · d
  for (let i = 0; i < 3; i++) {
    const oneMinusHalfDenominatorTimesX = ((1 << 29) - srdhm(halfDenominator, x)) | 0;
    x = (x + saturatingShiftLeft(srdhm(x, oneMinusHalfDenominatorTimesX), 2)) | 0;
  }
  return saturatingShiftLeft(x, 1);
}

/** TFLite's GetReciprocal of a Q12.19 sum: the Q0.31 scale and the bits of the sum above 1. */
export function reciprocalOfSum(sum: number): { readonly scale: number; readonly bitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(sum);
  const shiftedSumMinusOne = ((sum << headroomPlusOne) - 0x80000000) | 0;
  return { scale: oneOverOnePlusX(shiftedSumMinusOne), bitsOverUnit: ACCUMULATION_INTEGER_BITS - headroomPlusOne };
}

/** TFLite-Micro's int8 softmax (see the contract above), on `batch` samples of the layout. */
export function fixedPointSoftmax(layout: SoftmaxLayout, p: FixedPointSoftmaxParams, x: Int8Array, batch: number, y: Int8Array): void {
  const { length, inner } = layout;
  const scaledDiff = (d: number): number => srdhm(Math.imul(d, 2 ** p.inputLeftShift), p.inputMultiplier);
  forEachSlice(layout, batch, x, (base, max) => {
    let sum = 0;
    for (let k = 0; k < length; k++) {
      const d = x[base + k * inner] - max;
      if (d >= p.diffMin) sum = (sum + roundingDivideByPOT(expOnNegativeValues(scaledDiff(d)), ACCUMULATION_INTEGER_BITS)) | 0;
    }
    const { scale, bitsOverUnit } = reciprocalOfSum(sum);
    const exponent = bitsOverUnit + 31 - p.outputBits;
    for (let k = 0; k < length; k++) {
      const d = x[base + k * inner] - max;
      let q = p.qmin;
      if (d >= p.diffMin) {
        const product = srdhm(scale, expOnNegativeValues(scaledDiff(d)));
        q = (exponent > 31 ? 0 : roundingDivideByPOT(product, exponent)) + p.zeroPoint;
        q = q < p.qmin ? p.qmin : q > p.qmax ? p.qmax : q;
      }
      y[base + k * inner] = q;
    }
  });
}
