// Element-wise activations (Relu, Clip, Sigmoid, HardSigmoid, HardSwish, LeakyRelu, Tanh, Elu) as a 256-entry table built at prepare time:
// an int8 input has 256 values, so the table holds every answer and eval is one lookup per element.
// Contract, entry q of the table, input grid (sx, zx), output grid (sy, zy), clamp to [qmin, qmax] of the output:
// tflite-double, tflite-single:
//   Relu, Clip: TFLite's int8 RELU (CalculateReluOpData, ReluQuantized) with the op's bounds [lo, hi]:
//     y = clamp(zy + MultiplyByQuantizedMultiplier(q − zx, QuantizeMultiplier(double(sx)/double(sy))),
//               max(qmin, zy + TfLiteRound(fp32(lo/sy))), min(qmax, zy + TfLiteRound(fp32(hi/sy))))
//     (an infinite bound is no bound), with the mode's MultiplyByQuantizedMultiplier.
//   HardSwish: TFLite's int16 fixed-point HARD_SWISH (hard-swish-tflite.ts).
//   Sigmoid, HardSigmoid: TFLite's LUTPopulateInt8: y = TfLiteRound(fp32(f(fp32(sx·(q − zx))) · fp32(1/sy))) + zy
// onnx, a100: DequantizeLinear → the float op → QuantizeLinear, as onnxruntime runs an unfused QDQ activation:
//   y = rne(fp32(f(fp32((q − zx)·sx)) / sy)) + zy                           rne: round half to even
// f is evaluated in float32 as each target writes it (every step rounded with Math.fround). tflite-builtin and
// tflite-xnnpack: LiteRT.js and tfjs-tflite fill their int8 LOGISTIC table this way; measured equal on all 256 inputs
// of the grids in test/targets/tflite. Not exact yet: the exp inside Sigmoid (glibc expf, MLAS's logistic
// polynomial, TFLite-Micro's fixed-point LOGISTIC).
// LeakyRelu, Tanh, Elu: the onnx table is measured equal to onnxruntime's QDQ graph on all 256 inputs (test/runtime);
// neither the TFLite nor the C target exports them yet, so their tflite-mode tables (LUTPopulateInt8 form) are unverified.

import type { Node } from '../../src/ir/graph.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { tfliteBuild, tfliteDoubleFromMultiplier, tfliteSingleFromMultiplier } from '../requant/index.js';
import { gridQuantizer } from '../quantize-input.js';
import { floatTable, hardSigmoid, roundHalfAwayFromZero, tfliteTable, type FloatActivation } from '../../src/quant/tflite-lut.js';
import { tfliteHardSwishTable } from './hard-swish-tflite.js';
import type { KernelContext, KernelFactory } from './kernel.js';

// The LUTPopulateInt8 pieces live with the TFLite export's (src/quant/tflite-lut.ts); re-exported for the kernel tests.
export { floatTable, hardSigmoid, tfliteTableQuantizer, type FloatActivation } from '../../src/quant/tflite-lut.js';

const f32 = Math.fround;

const relu6 = (x: number): number => (x < 0 ? 0 : x > 6 ? 6 : x);

export const sigmoid: FloatActivation = (x) => f32(1 / f32(1 + f32(Math.exp(-x))));

/** TFLite's float HARD_SWISH: x · relu6(x + 3) / 6. */
export const hardSwishTflite: FloatActivation = (x) => f32(f32(x * relu6(f32(x + 3))) / 6);

const hardSwishGate = hardSigmoid(1 / 6, 0.5);

/** onnxruntime's HardSwish (the ONNX function body): x · HardSigmoid(x; alpha = fp32(1/6), beta = 1/2). */
export const hardSwishOnnx: FloatActivation = (x) => f32(x * hardSwishGate(x));

/** LeakyRelu: x ≥ 0 ? x : alpha·x, one float32 product (exact in every target). */
export function leakyRelu(alpha: number): FloatActivation {
  const a = f32(alpha);
  return (x) => (x >= 0 ? x : f32(a * x));
}

/** Tanh in float32 (correctly rounded here; targets use their own approximations: see the contract above). */
export const tanh: FloatActivation = (x) => f32(Math.tanh(x));

/** Elu: x > 0 ? x : alpha·(eˣ − 1), every step rounded to float32. */
export function elu(alpha: number): FloatActivation {
  const a = f32(alpha);
  return (x) => (x > 0 ? x : f32(a * f32(f32(Math.exp(x)) - 1)));
}

export function clipTo(lo: number, hi: number): FloatActivation {
  const [min, max] = [f32(lo), f32(hi)];
  return (x) => (x < min ? min : x > max ? max : x);
}


/** TFLite's int8 RELU arithmetic with bounds [lo, hi] (±Infinity for none): see the contract above. */
export function tfliteReluTable(mode: 'tflite-double' | 'tflite-single', lo: number, hi: number, input: ActivationQuant, output: ActivationQuant): Int8Array {
  const sy = f32(output.scale);
  const bound = (v: number, none: number): number => (Number.isFinite(v) ? output.zeroPoint + roundHalfAwayFromZero(f32(f32(v) / sy)) : none);
  const min = Math.max(output.qmin, bound(lo, output.qmin));
  const max = Math.min(output.qmax, bound(hi, output.qmax));
  const fromMultiplier = mode === 'tflite-double' ? tfliteDoubleFromMultiplier : tfliteSingleFromMultiplier;
  const rq = fromMultiplier(f32(input.scale) / sy, { zeroPoint: output.zeroPoint, min: output.qmin, max: output.qmax });
  return Int8Array.from({ length: 256 }, (_, i) => Math.min(max, Math.max(min, rq.apply(i - 128 - input.zeroPoint))));
}

/** The [lo, hi] bounds of a Relu or Clip node (Clip's normalized min/max, ±Infinity when absent). */
function reluBounds(node: Node): [number, number] {
  if (node.op === 'Relu') return [0, Infinity];
  return [Number(node.attrs.min ?? -Infinity), Number(node.attrs.max ?? Infinity)];
}

/** The float function of a non-Relu node, in the mode's target's float32 arithmetic. */
function floatActivation(ctx: KernelContext): FloatActivation {
  const { node } = ctx;
  if (node.op === 'Relu' || node.op === 'Clip') return clipTo(...reluBounds(node));
  if (node.op === 'Sigmoid') return sigmoid;
  if (node.op === 'HardSigmoid') return hardSigmoid(Number(node.attrs.alpha ?? 0.2), Number(node.attrs.beta ?? 0.5));
  if (node.op === 'HardSwish') return ctx.mode === 'onnx' || ctx.mode === 'a100' ? hardSwishOnnx : hardSwishTflite;
  if (node.op === 'LeakyRelu') return leakyRelu(Number(node.attrs.alpha ?? 0.01));
  if (node.op === 'Tanh') return tanh;
  if (node.op === 'Elu') return elu(Number(node.attrs.alpha ?? 1));
  return ctx.unsupported('this activation has no table rule');
}

/** The 256-entry table of a node in a mode: see the contract above. */
function activationTable(ctx: KernelContext): Int8Array {
  const [input, output, mode] = [ctx.inputGrid(0), ctx.outputGrid, ctx.mode];
  const build = tfliteBuild(mode);
  if (build) {
    if (ctx.node.op === 'Relu' || ctx.node.op === 'Clip') return tfliteReluTable(build, ...reluBounds(ctx.node), input, output);
    if (ctx.node.op === 'HardSwish') return tfliteHardSwishTable(input, output);
    return tfliteTable(floatActivation(ctx), input, output);
  }
  return floatTable(floatActivation(ctx), input, gridQuantizer(mode, output));
}

/** y[i] = table[x[i] + 128]. */
export function lookup(table: Int8Array, x: Int8Array, y: Int8Array): void {
  for (let i = 0; i < y.length; i++) y[i] = table[x[i] + 128];
}

export const lookupTableKernel: KernelFactory = (ctx) => {
  const table = activationTable(ctx);
  return (inputs, _batch, output) => lookup(table, inputs[0], output);
};
