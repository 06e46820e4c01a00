// Mul of two int8 activations on their own grids, with numpy broadcasting (the squeeze-and-excitation Mul of
// [N,C,H,W] by [N,C,1,1]), into the output grid.
// Contract, per output element from raw int8 operands a (grid sa, za), b (grid sb, zb) and output grid (sy, zy):
//   acc = (a − za)·(b − zb)                                         exact int32
// tflite-double, tflite-single: TFLite's int8 MUL (kernels/mul.cc, reference_integer_ops::MulElementwise):
//   y = clamp(zy + MultiplyByQuantizedMultiplier(acc, QuantizeMultiplier(double(sa)·double(sb)/double(sy))), qmin, qmax)
//   with the mode's MultiplyByQuantizedMultiplier (requant/tflite-double.ts, requant/tflite-single.ts).
// tflite-xnnpack, tflite-builtin: MUL has no weights, so the XNNPACK delegate of LiteRT.js and tfjs-tflite takes it on
//   the built-in path too (like ADD), wherever it accepts the grids (VisitMulNode): XNNPACK's qs8 multiply, fp32:
//   scale = fp32(fp32(sa·sb) / sy) ∈ [2^−16, 2^8);  y = clamp(rne(fp32(fp32(acc)·scale)) + zy, qmin, qmax)
//   = the tflite-xnnpack requantizer (requant/tflite-xnnpack.ts). Outside that range the interpreters' own MUL runs,
//   and it rounds twice: tflite-double (measured on both interpreters and paths, 40 grids: 0 off; single rounding and
//   XNNPACK's rule: 40 off each). Before this rule LiteRT.js's built-in path was off on Selfie Segmentation's
//   squeeze-excite MULs (ties of acc·M): 6,640 of 2,621,440 mask bytes on 40 photos, per-channel W8A8, bias correction.
// onnx, a100: onnxruntime's QLinearMul (MLAS SSE2 kernel on x86-64): scale = fp32(fp32(sa·sb) / sy),
//   y = clamp(rne(fp32(fp32(acc·scale) + zy)), qmin, qmax)           rne: round half to even (cvtps2dq)
//   Checked bit-exact against onnxruntime-node 1.30 on 10 M random elements; a100 uses the same arithmetic.

import { onnxOutputScale, prepareRequantizer, roundHalfToEven, tfliteBuild, type RequantMode, type Requantizer } from '../requant/index.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { binaryPlan, runBinary, type BinaryElement } from './add.js';
import { climb, staircase } from './gemm.js';
import type { KernelFactory } from './kernel.js';

/** The requantization rules an int8 MUL of a TFLite interpreter runs: its own kernel's (either build) or XNNPACK's. */
export type TfliteMulRule = 'tflite-double' | 'tflite-single' | 'tflite-xnnpack';

/** A TFLite int8 MUL's requantizer: M = sa·sb/sy onto the output grid (the C target's Mul takes its constants). */
export function tfliteMulRequantizer(rule: TfliteMulRule, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): Requantizer {
  return prepareRequantizer(rule, { inputScale: a.scale, weightScale: b.scale, outputScale: y.scale, zeroPoint: y.zeroPoint, min: y.qmin, max: y.qmax });
}

/** TFLite's XNNPACK delegate takes an int8 MUL whose fp32 product scale lies in [2^−16, 2^8) (VisitMulNode). */
function delegateTakesMul(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): boolean {
  const scale = onnxOutputScale(a.scale, b.scale, y.scale);
  return scale >= 2 ** -16 && scale < 2 ** 8;
}

/** Which rule a mode's MUL runs (see the contract above; the C target's Mul takes it); undefined for onnx and a100. */
export function tfliteMulRule(mode: RequantMode, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): TfliteMulRule | undefined {
  if (mode !== 'tflite-xnnpack' && mode !== 'tflite-builtin') return tfliteBuild(mode);
  return delegateTakesMul(a, b, y) ? 'tflite-xnnpack' : 'tflite-double';
}

/** A TFLite int8 MUL: one requantization of the exact product with M = sa·sb/sy (through its staircase, gemm.ts). */
export function tfliteMul(rule: TfliteMulRule, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const steps = staircase(tfliteMulRequantizer(rule, a, b, y), 255 * 255);
  return (qa, qb) => climb(steps, (qa - a.zeroPoint) * (qb - b.zeroPoint));
}

/** onnxruntime's QLinearMul, used by the onnx and a100 modes: see the contract above. */
export function onnxMul(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const f32 = Math.fround;
  const scale = f32(f32(f32(a.scale) * f32(b.scale)) / f32(y.scale));
  return (qa, qb) => {
    const v = roundHalfToEven(f32(f32((qa - a.zeroPoint) * (qb - b.zeroPoint) * scale) + y.zeroPoint));
    return v < y.qmin ? y.qmin : v > y.qmax ? y.qmax : v;
  };
}

export function mulElement(mode: RequantMode, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const rule = tfliteMulRule(mode, a, b, y);
  return rule ? tfliteMul(rule, a, b, y) : onnxMul(a, b, y);
}

export const mulKernel: KernelFactory = (ctx) => {
  const plan = binaryPlan(ctx);
  const element = mulElement(ctx.mode, ctx.inputGrid(0), ctx.inputGrid(1), ctx.outputGrid);
  return (inputs, batch, output) => runBinary(plan, element, inputs[0], inputs[1], batch, output);
};
