/* SPDX-License-Identifier: Apache-2.0 */
/* TFLite's MultiplyByQuantizedMultiplier in either build, picked at compile time by FLEXQ_SINGLE_ROUNDING (flexq's
 * code generator defines it in flexq_names.h for a library exported with --rounding single):
 *   0 (default): TFLite-Micro's default double rounding, gemmlowp's SaturatingRoundingDoublingHighMul then
 *                RoundingDivideByPOT; flexq's integer runtime mode tflite-double computes the same.
 *   1:           TFLite's TFLITE_SINGLE_ROUNDING build (CMSIS-NN's CMSIS_NN_USE_SINGLE_ROUNDING, LiteRT's kernels):
 *                (x·q + 2^(t−1)) >> t, t = 31 − shift, one rounding of the exact 64-bit product; mode tflite-single.
 * The multipliers the generator writes come from the same build's QuantizeMultiplier. The left shift of the double
 * build is done on uint32 so an overflow wraps (as the runtime's imul) instead of being undefined behaviour. */
#ifndef FLEXQ_REQUANT_H
#define FLEXQ_REQUANT_H

#include <stdint.h>
#include "flexq_kernels.h"

#ifndef FLEXQ_SINGLE_ROUNDING
#define FLEXQ_SINGLE_ROUNDING 0
#endif

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

/* multiplier in [0, 2^31), shift −31..30. */
static inline int32_t flexq_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
#if FLEXQ_SINGLE_ROUNDING
  const int32_t total_shift = 31 - shift; /* 1..62 */
  /* |x·q| < 2^62: no int64 overflow; the int32 cast wraps where the result leaves int32 (as the runtime's | 0). */
  return (int32_t)(((int64_t)x * multiplier + (1ll << (total_shift - 1))) >> total_shift);
#else
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
  return flexq_rounding_divide_by_pot(flexq_saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
#endif
}

static inline int8_t flexq_requantize(const flexq_requant *r, int32_t acc) {
  /* + zero point wraps like the runtime's int32 arithmetic */
  int32_t y = (int32_t)((uint32_t)flexq_multiply_by_quantized_multiplier(acc, r->multiplier, r->shift) + (uint32_t)r->zero_point);
  if (y < r->min) y = r->min;
  if (y > r->max) y = r->max;
  return (int8_t)y;
}

/* Channel m of a flexq_channel_requant as a flexq_requant, for the reference kernels' flexq_requantize. */
static inline flexq_requant flexq_requant_of_channel(const flexq_channel_requant *r, int32_t m) {
  const flexq_requant c = {r->multiplier[m], r->shift[m], r->zero_point, r->min, r->max};
  return c;
}

/* One output channel's requantization constants, unpacked once per channel by the optimized kernels. */
#if FLEXQ_SINGLE_ROUNDING
typedef struct {
  int32_t multiplier;
  int32_t total_shift; /* 31 − shift, 1..62 */
  int64_t round;       /* 2^(total_shift − 1) */
} flexq_channel_constants;

static inline flexq_channel_constants flexq_constants_of(int32_t multiplier, int32_t shift) {
  flexq_channel_constants c;
  c.multiplier = multiplier;
  c.total_shift = 31 - shift;
  c.round = 1ll << (c.total_shift - 1);
  return c;
}
#else
typedef struct {
  int32_t multiplier;
  int32_t left_shift;  /* max(shift, 0) */
  int32_t right_shift; /* max(−shift, 0) */
  int32_t mask;        /* 2^right_shift − 1 */
  int32_t half;        /* mask >> 1 */
} flexq_channel_constants;

static inline flexq_channel_constants flexq_constants_of(int32_t multiplier, int32_t shift) {
  flexq_channel_constants c;
  c.multiplier = multiplier;
  c.left_shift = shift > 0 ? shift : 0;
  c.right_shift = shift > 0 ? 0 : -shift;
  c.mask = (int32_t)((1u << c.right_shift) - 1u);
  c.half = c.mask >> 1;
  return c;
}
#endif

static inline flexq_channel_constants flexq_channel_constants_of(const flexq_channel_requant *r, int32_t m) {
  return flexq_constants_of(r->multiplier[m], r->shift[m]);
}

/* flexq_requantize's value for any acc, in fewer operations. Single rounding: the same one 64-bit multiply, add and
 * shift with the rounding term precomputed. Double rounding, given a multiplier in [0, 2^31) (never INT32_MIN, so
 * the doubling high mul cannot saturate): gemmlowp's nudge (2^30, or 1 − 2^30 for a negative product) with a
 * division truncating toward zero is floor((a·b + 2^30) / 2^31) for either sign, one 64-bit add and shift; the
 * rounding divide is flexq_rounding_divide_by_pot with its mask and half precomputed. */
static inline int8_t flexq_requantize_channel(const flexq_channel_constants *c, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
#if FLEXQ_SINGLE_ROUNDING
  int32_t y = (int32_t)(((int64_t)acc * c->multiplier + c->round) >> c->total_shift);
#else
  const int32_t shifted = (int32_t)((uint32_t)acc << c->left_shift);
  const int32_t high = (int32_t)(((int64_t)shifted * c->multiplier + (1ll << 30)) >> 31);
  const int32_t threshold = c->half + (int32_t)((uint32_t)high >> 31);
  int32_t y = (high >> c->right_shift) + ((high & c->mask) > threshold ? 1 : 0);
#endif
  y = (int32_t)((uint32_t)y + (uint32_t)zero_point);
  if (y < min) y = min;
  if (y > max) y = max;
  return (int8_t)y;
}

#endif
