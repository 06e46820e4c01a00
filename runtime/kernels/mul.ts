// Mul of two int8 activations on their own grids, with numpy broadcasting (the squeeze-and-excitation Mul of
// [N,C,H,W] by [N,C,1,1]), into the output grid.
// Contract, per output element from raw int8 operands a (grid sa, za), b (grid sb, zb) and output grid (sy, zy):
//   acc = (a − za)·(b − zb)                                         exact int32
// tflite-double, tflite-single: TFLite's int8 MUL (kernels/mul.cc, reference_integer_ops::MulElementwise):
//   y = clamp(zy + MultiplyByQuantizedMultiplier(acc, QuantizeMultiplier(double(sa)·double(sb)/double(sy))), qmin, qmax)
//   with the mode's MultiplyByQuantizedMultiplier (requant/tflite-double.ts, requant/tflite-single.ts).
// onnx, a100: onnxruntime's QLinearMul (MLAS SSE2 kernel on x86-64): scale = fp32(fp32(sa·sb) / sy),
//   y = clamp(rne(fp32(fp32(acc·scale) + zy)), qmin, qmax)           rne: round half to even (cvtps2dq)
//   Checked bit-exact against onnxruntime-node 1.30 on 10 M random elements; a100 uses the same arithmetic.

import { prepareRequantizer, roundHalfToEven, tfliteBuild, type RequantMode, type Requantizer } from '../requant/index.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { binaryPlan, runBinary, type BinaryElement } from './add.js';
import { climb, staircase } from './gemm.js';
import type { KernelFactory } from './kernel.js';

/** TFLite's int8 MUL requantizer: M = sa·sb/sy onto the output grid (the C target's Mul takes its constants). */
export function tfliteMulRequantizer(mode: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): Requantizer {
  return prepareRequantizer(mode, { inputScale: a.scale, weightScale: b.scale, outputScale: y.scale, zeroPoint: y.zeroPoint, min: y.qmin, max: y.qmax });
}

/** TFLite's int8 MUL: one requantization of the exact product with M = sa·sb/sy (through its staircase, gemm.ts). */
export function tfliteMul(mode: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): BinaryElement {
  const steps = staircase(tfliteMulRequantizer(mode, a, b, y), 255 * 255);
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
  const build = tfliteBuild(mode);
  return build ? tfliteMul(build, a, b, y) : onnxMul(a, b, y);
}

export const mulKernel: KernelFactory = (ctx) => {
  const plan = binaryPlan(ctx);
  const element = mulElement(ctx.mode, ctx.inputGrid(0), ctx.inputGrid(1), ctx.outputGrid);
  return (inputs, batch, output) => runBinary(plan, element, inputs[0], inputs[1], batch, output);
};
