// tflite-double: gemmlowp / TFLite-Micro / CMSIS-NN default requantization (two roundings).
// Contract, bit-exact to tensorflow/lite/kernels/internal/common.cc MultiplyByQuantizedMultiplier (default build):
//   (q, shift) = QuantizeMultiplier(M), M = double(s_in)·double(s_w)/double(s_out); shift ≤ 30 (checked at prepare)
//   x   = acc · 2^max(shift, 0)                       int32 multiply, wraps on overflow as the compiled C does
//   h   = SaturatingRoundingDoublingHighMul(x, q)      round(x·q / 2^31), ties toward +∞ (first rounding)
//   r   = RoundingDivideByPOT(h, max(−shift, 0))       round(h / 2^e), ties away from zero (second rounding)
//   out = clamp((r + zero_point) wrapped to int32, min, max)
// Two roundings: a real value just below k + ½ can round up (DESIGN.md: acc 22234, real 34.499… gives 35).
// CMSIS-NN's arm_nn_requantize (default build) computes the same: its unsaturated high-mul is also floor((x·q + 2^30) / 2^31).

import { fixedPointRequantizer } from './fixed-point.js';
import { quantizeMultiplier, tfliteConvMultiplier } from './quantize-multiplier.js';
import type { OutputRange, RequantParams, Requantizer } from './types.js';
import { INT32_MAX, INT32_MIN, validateOutputRange, validateRequantParams } from './types.js';

/**
 * gemmlowp's SaturatingRoundingDoublingHighMul (ARM VQRDMULH) on int32 a, b:
 * (a·b + nudge) / 2^31 truncated toward zero, nudge = 2^30 if a·b ≥ 0 else 1 − 2^30, which equals
 * floor((a·b + 2^30) / 2^31) (ties toward +∞); the one overflow, INT32_MIN · INT32_MIN, saturates to INT32_MAX.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // a·b is up to 2^62: split b at bit 16 so both partial products stay below 2^48, exact in a double.
  const bHigh = b >> 16; // signed, |bHigh| ≤ 2^15
  const bLow = b & 0xffff;
  const low = a * bLow + 0x40000000; // a·bLow + 2^30
  const lowCarry = Math.floor(low / 0x10000);
  // a·b + 2^30 = (a·bHigh + lowCarry)·2^16 + (low mod 2^16), so its floor by 2^31 is floor((a·bHigh + lowCarry) / 2^15).
  return Math.floor((a * bHigh + lowCarry) / 0x8000) | 0;
}

/** gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. int32 x, exponent 0..31. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = 2 ** exponent - 1;
  const remainder = x & mask;
  const threshold = (mask >>> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite's MultiplyByQuantizedMultiplier (double rounding). int32 x, q ∈ [0, 2^31), shift ∈ [−31, 30]. */
export function multiplyByQuantizedMultiplierDouble(x: number, quantizedMultiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 1 << leftShift), quantizedMultiplier), rightShift);
}

export function prepareTfliteDouble(p: RequantParams): Requantizer {
  const s = validateRequantParams('tflite-double', p);
  return tfliteDoubleFromMultiplier(tfliteConvMultiplier(s.inputScale, s.weightScale, s.outputScale), p);
}

/** For ops whose real multiplier TFLite computes another way (per-tensor FullyConnected: tfliteFullyConnectedMultiplier). */
export function tfliteDoubleFromMultiplier(realMultiplier: number, range: OutputRange): Requantizer {
  validateOutputRange('tflite-double', range);
  const q = quantizeMultiplier(realMultiplier);
  if (q.shift > 30) {
    throw new Error(
      `requantizer 'tflite-double': multiplier ${realMultiplier} needs a left shift of ${q.shift}; TFLite's int32 shift allows at most 30`,
    );
  }
  return fixedPointRequantizer('tflite-double', q, range, multiplyByQuantizedMultiplierDouble);
}
