// tflite-xnnpack: the requantization of XNNPACK's qs8 convolution, depthwise-convolution and fully-connected operators, as
// TFLite's XNNPACK delegate (the default CPU path of LiteRT.js and tfjs-tflite) creates them for per-tensor int8
// layers with constant weights (xnn_create_convolution2d_nhwc_qs8, xnn_create_fully_connected_nc_qs8, "fp32"
// requantization of the qs8 gemm / igemm / dwconv microkernels).
// Contract:
//   scale = fp32(fp32(s_in · s_w) / s_out)       C float arithmetic: input_scale * kernel_scale / output_scale
//   v     = fp32(fp32(acc) · scale), clamped to [min − zp, max − zp] in float
//   out   = rne(v) + zp                           magic-bias / nearest-int conversion: round half to even
// = the fp32 epilogue (fp32-epilogue.ts) with the same scale arithmetic as onnxruntime's (onnx.ts).
// Measured against LiteRT.js 2.5.3 and tfjs-tflite 0.0.1-alpha.10 in Node (test/targets/tflite): where this and
// tflite-single differ, both interpreters give this.

import { checkedScale, fp32EpilogueRequantizer } from './fp32-epilogue.js';
import { onnxOutputScale } from './onnx.js';
import type { RequantParams, Requantizer } from './types.js';
import { validateRequantParams } from './types.js';

export function prepareTfliteXnnpack(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-xnnpack', p);
  return fp32EpilogueRequantizer('tflite-xnnpack', checkedScale('tflite-xnnpack', onnxOutputScale(s.inputScale, s.weightScale, s.outputScale), s), p);
}
