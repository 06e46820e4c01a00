// onnx: onnxruntime's CPU requantization of a QLinearConv / QLinearMatMul output (what a QDQ Conv or MatMul becomes
// once ORT fuses DequantizeLinear → op → QuantizeLinear), MLAS's MlasRequantizeOutput and the ConvSym kernels.
// Contract:
//   scale = fp32(fp32(s_in · s_w) / s_out)      C++ `X_scale * W_scale[i] / Y_scale` on floats: two float32 roundings
//                                               (qlinearconv.cc ComputeOutputScale, quantize_linear_matmul.cc)
//   then the fp32 epilogue (fp32-epilogue.ts): v = fp32(fp32(acc) · scale), clamp to [min − zp, max − zp],
//   round half to even (cvtps2dq under the default MXCSR, NEON fcvtns), + zero point.
// Not covered: ORT's opt-in ARM64 fixed-point requantization of QLinearMatMul (MlasFloatToFixedPoint).

import { checkedScale, fp32EpilogueRequantizer } from './fp32-epilogue.js';
import type { RequantParams, Requantizer } from './types.js';
import { validateRequantParams } from './types.js';

/** onnxruntime's output scale of QLinearConv / QLinearMatMul: fp32(fp32(s_in · s_w) / s_out). */
export function onnxOutputScale(inputScale: number, weightScale: number, outputScale: number): number {
  const product = Math.fround(Math.fround(inputScale) * Math.fround(weightScale));
  // A double quotient of two float32s rounded once to float32 is the correctly rounded float32 quotient (53 ≥ 2·24 + 2).
  return Math.fround(product / Math.fround(outputScale));
}

export function prepareOnnx(p: RequantParams): Requantizer {
  const s = validateRequantParams('onnx', p);
  return fp32EpilogueRequantizer('onnx', checkedScale('onnx', onnxOutputScale(s.inputScale, s.weightScale, s.outputScale), s), p);
}
