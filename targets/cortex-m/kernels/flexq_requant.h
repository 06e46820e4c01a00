/* SPDX-License-Identifier: Apache-2.0 */
/* TFLite's MultiplyByQuantizedMultiplier, default (double-rounding) build, with gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT; flexq's integer runtime (mode tflite-double) computes the
 * same. The left shift is done on uint32 so an overflow wraps (as the runtime's imul) instead of being undefined
 * behaviour. */
#ifndef FLEXQ_REQUANT_H
#define FLEXQ_REQUANT_H

#include <stdint.h>
#include "flexq_kernels.h"

/* round(a·b / 2^31), ties toward +∞; INT32_MIN · INT32_MIN saturates. */
static inline int32_t flexq_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / (1ll << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent 0..31. */
static inline int32_t flexq_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)((1ll << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t flexq_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
  return flexq_rounding_divide_by_pot(flexq_saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

static inline int8_t flexq_requantize(const flexq_requant *r, int32_t acc) {
  /* + zero point wraps like the runtime's int32 arithmetic */
  int32_t y = (int32_t)((uint32_t)flexq_multiply_by_quantized_multiplier(acc, r->multiplier, r->shift) + (uint32_t)r->zero_point);
  if (y < r->min) y = r->min;
  if (y > r->max) y = r->max;
  return (int8_t)y;
}

#endif
