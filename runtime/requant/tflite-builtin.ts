// tflite-builtin: the built-in (optimized, non-delegated) int8 kernels of the TFLite interpreter as LiteRT.js 2.5.3
// and tfjs-tflite 0.0.1-alpha.10 compile it (TFLITE_SINGLE_ROUNDING). Measured in Node (test/targets/tflite).
// Contract:
//   CONV_2D, FULLY_CONNECTED and the other requantizing ops: tflite-single (tflite-single.ts), bit for bit.
//   DEPTHWISE_CONV_2D and TRANSPOSE_CONV: the optimized int8 kernels round twice whatever the build: tflite-double
//   (tflite-double.ts) bit for bit, ties of the final shift away from zero. Measured on depthwise 3×3 and 5×5 layers
//   without a fused clamp (BlazeFace, ppocr-cls), where a negative tie shows it: rounding it up (kUpward) differs.
//   Per-channel depthwise layers too (one (q, shift) per channel): measured 0 of 368,640 bytes off on LiteRT.js (op test; single rounding: 1,847).
//   ADD, MUL and the graph input's QUANTIZE have no weights, so the XNNPACK delegate runs them on this path too: their
//   kernels take XNNPACK's arithmetic in this mode (kernels/add.ts, kernels/mul.ts, quantize-input.ts); a MUL whose
//   grids the delegate refuses rounds twice (kernels/mul.ts). MEAN: TFLite's optimized kernel (kernels/global-average-pool.ts).

import { tfliteConvMultiplier } from './quantize-multiplier.js';
import { tfliteSingleFromMultiplier } from './tflite-single.js';
import type { RequantParams, Requantizer } from './types.js';
import { validateRequantParams } from './types.js';

export function prepareTfliteBuiltin(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-builtin', p);
  return { ...tfliteSingleFromMultiplier(tfliteConvMultiplier(s.inputScale, s.weightScale, s.outputScale), p), mode: 'tflite-builtin' };
}
