// tflite-single: TFLite's TFLITE_SINGLE_ROUNDING requantization (one rounding of the exact 64-bit product).
// Contract, bit-exact to tensorflow/lite/kernels/internal/common.cc MultiplyByQuantizedMultiplier (single-rounding build):
//   (q, shift) = QuantizeMultiplier(M) with the single-rounding saturation (shift > 30 → (2^31 − 1, 30)),
//                M = double(s_in)·double(s_w)/double(s_out); TFLite DCHECKs q ≥ 0 and shift ∈ [−31, 30]
//   t   = 31 − shift                                   1..62
//   r   = (acc · q + 2^(t−1)) >> t                      int64 product, arithmetic shift: round half toward +∞
//   r   = int32(r)                                      static_cast: wraps if the result leaves int32 (DCHECKed away)
//   out = clamp((r + zero_point) wrapped to int32, min, max)
// CMSIS-NN's CMSIS_NN_USE_SINGLE_ROUNDING computes the same r by (acc·q >> (t−1)) then (+1) >> 1, wherever r fits int32.

import { fixedPointRequantizer } from './fixed-point.js';
import { quantizeMultiplierSingleRounding, tfliteConvMultiplier } from './quantize-multiplier.js';
import type { OutputRange, RequantParams, Requantizer } from './types.js';
import { validateOutputRange, validateRequantParams } from './types.js';

const TWO_32 = 4294967296;

/** TFLite's single-rounding MultiplyByQuantizedMultiplier. int32 x, q ∈ [0, 2^31), shift ∈ [−31, 30]; int32 result. */
export function multiplyByQuantizedMultiplierSingle(x: number, quantizedMultiplier: number, shift: number): number {
  const totalShift = 31 - shift;
  // x·q is up to 2^62: split q at bit 16 so both partial products stay below 2^47, exact in a double.
  const low = x * (quantizedMultiplier & 0xffff);
  const lowCarry = Math.floor(low / 0x10000);
  const high = x * (quantizedMultiplier >>> 16) + lowCarry; // x·q = high·2^16 + (low mod 2^16), |high| < 2^47
  if (totalShift > 16) {
    // The rounding term 2^(t−1) is a multiple of 2^16, and the discarded low 16 bits never reach the next multiple of 2^t.
    return Math.floor((high + 2 ** (totalShift - 17)) / 2 ** (totalShift - 16)) | 0;
  }
  // t ≤ 16 (shift ≥ 15): the result is high·2^(16−t) + a small carry; take high mod 2^32 first so the wrap stays exact.
  const lowBits = low - lowCarry * 0x10000;
  const highWrapped = high - Math.floor(high / TWO_32) * TWO_32;
  return (highWrapped * 2 ** (16 - totalShift) + Math.floor((lowBits + 2 ** (totalShift - 1)) / 2 ** totalShift)) | 0;
}

export function prepareTfliteSingle(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-single', p);
  return tfliteSingleFromMultiplier(tfliteConvMultiplier(s.inputScale, s.weightScale, s.outputScale), p);
}

/** For ops whose real multiplier TFLite computes another way (per-tensor FullyConnected: tfliteFullyConnectedMultiplier). */
export function tfliteSingleFromMultiplier(realMultiplier: number, range: OutputRange): Requantizer {
  validateOutputRange('tflite-single', range);
  return fixedPointRequantizer('tflite-single', quantizeMultiplierSingleRounding(realMultiplier), range, multiplyByQuantizedMultiplierSingle);
}
