// tflite-builtin: the built-in (optimized, non-delegated) int8 kernels of the TFLite interpreter as LiteRT.js 2.5.3
// and tfjs-tflite 0.0.1-alpha.10 compile it (TFLITE_SINGLE_ROUNDING). Measured in Node (test/targets/tflite).
// Contract:
//   CONV_2D, FULLY_CONNECTED and the other requantizing ops: tflite-single (tflite-single.ts), bit for bit.
//   DEPTHWISE_CONV_2D: optimized_integer_ops' depthwise kernel rounds with DepthwiseConvOutputRounding::kUpward,
//   double rounding whatever the build (tfliteDepthwiseUpward below):
//     (q, shift) = QuantizeMultiplier(M) (single-rounding build), M = double(s_in)·double(s_w)/double(s_out)
//     h   = SaturatingRoundingDoublingHighMul(acc · 2^max(shift, 0), q)     ties toward +∞
//     r   = (h + 2^(e−1)) >> e,  e = max(−shift, 0)                          ties toward +∞ (not away from zero)
//     out = clamp(r + zero_point, min, max)
//   e.g. acc 3603 at M = 0.0206739 and zero point −128 is −53.5119 exactly: tflite-single gives −54, the
//   depthwise kernel −53 (h lands on −53.5 after the first rounding, and the tie goes up).

import { fixedPointRequantizer } from './fixed-point.js';
import { quantizeMultiplierSingleRounding, tfliteConvMultiplier } from './quantize-multiplier.js';
import { saturatingRoundingDoublingHighMul } from './tflite-double.js';
import { tfliteSingleFromMultiplier } from './tflite-single.js';
import type { RequantParams, Requantizer } from './types.js';
import { validateOutputRange, validateRequantParams } from './types.js';

export function prepareTfliteBuiltin(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-builtin', p);
  return { ...tfliteSingleFromMultiplier(tfliteConvMultiplier(s.inputScale, s.weightScale, s.outputScale), p), mode: 'tflite-builtin' };
}

/** TFLite's DepthwiseConvRound<kUpward>: int32 x, q ∈ [0, 2^31), shift ∈ [−31, 30]. */
export function depthwiseRoundUpward(x: number, quantizedMultiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const high = saturatingRoundingDoublingHighMul(Math.imul(x, 1 << leftShift), quantizedMultiplier);
  return rightShift > 0 ? (high + 2 ** (rightShift - 1)) >> rightShift : high;
}

/** The requantizer of TFLite's optimized int8 DEPTHWISE_CONV_2D (see the contract above). */
export function prepareTfliteDepthwiseUpward(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-builtin', p);
  validateOutputRange('tflite-builtin', p);
  const m = tfliteConvMultiplier(s.inputScale, s.weightScale, s.outputScale);
  return fixedPointRequantizer('tflite-builtin', quantizeMultiplierSingleRounding(m), p, depthwiseRoundUpward);
}
