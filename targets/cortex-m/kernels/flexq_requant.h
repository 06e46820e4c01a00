/* SPDX-License-Identifier: Apache-2.0 */
/* TFLite's MultiplyByQuantizedMultiplier in either build, picked at compile time by FLEXQ_SINGLE_ROUNDING (flexq's
 * code generator defines it in flexq_names.h for a library exported with --rounding single or xnnpack):
 *   0 (default): TFLite-Micro's default double rounding, gemmlowp's SaturatingRoundingDoublingHighMul then
 *                RoundingDivideByPOT; flexq's integer runtime mode tflite-double computes the same.
 *   1:           TFLite's TFLITE_SINGLE_ROUNDING build (CMSIS-NN's CMSIS_NN_USE_SINGLE_ROUNDING, LiteRT's kernels):
 *                (x·q + 2^(t−1)) >> t, t = 31 − shift, one rounding of the exact 64-bit product; mode tflite-single.
 * The multipliers the generator writes come from the same build's QuantizeMultiplier. The left shift of the double
 * build is done on uint32 so an overflow wraps (as the runtime's imul) instead of being undefined behaviour.
 * The weighted layers' channels (flexq_channel_requant, at the end) requantize with that fixed point, or with
 * FLEXQ_FP32_REQUANT (--rounding xnnpack, mode tflite-xnnpack) as XNNPACK's fp32 requantization does; a Mul
 * (flexq_mul_requant, at the very end) with that, or in that build with TFLite's double rounding where XNNPACK's
 * delegate leaves the Mul to TFLite. */
#ifndef FLEXQ_REQUANT_H
#define FLEXQ_REQUANT_H

#include <stdint.h>
#include <string.h>
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

/* TFLite's double rounding (gemmlowp): multiplier in [0, 2^31), shift −31..30. */
static inline int32_t flexq_multiply_double_rounding(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
  return flexq_rounding_divide_by_pot(flexq_saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

/* TFLite's single rounding: multiplier in [0, 2^31), shift −31..30. */
static inline int32_t flexq_multiply_single_rounding(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t total_shift = 31 - shift; /* 1..62 */
  /* |x·q| < 2^62: no int64 overflow; the int32 cast wraps where the result leaves int32 (as the runtime's | 0). */
  return (int32_t)(((int64_t)x * multiplier + (1ll << (total_shift - 1))) >> total_shift);
}

/* The build's MultiplyByQuantizedMultiplier. */
static inline int32_t flexq_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
#if FLEXQ_SINGLE_ROUNDING
  return flexq_multiply_single_rounding(x, multiplier, shift);
#else
  return flexq_multiply_double_rounding(x, multiplier, shift);
#endif
}

/* x + zero point, wrapping like the runtime's int32 arithmetic, clamped to r's range. */
static inline int8_t flexq_offset_and_clamp(const flexq_requant *r, int32_t x) {
  int32_t y = (int32_t)((uint32_t)x + (uint32_t)r->zero_point);
  if (y < r->min) y = r->min;
  if (y > r->max) y = r->max;
  return (int8_t)y;
}

static inline int8_t flexq_requantize(const flexq_requant *r, int32_t acc) {
  return flexq_offset_and_clamp(r, flexq_multiply_by_quantized_multiplier(acc, r->multiplier, r->shift));
}

/* One fixed-point requantization's constants, unpacked once per channel or tensor by the optimized kernels, and the
 * multiply they serve: flexq_multiply_channel for any shift, flexq_multiply_right_shift for one known to have a right
 * shift (shift ≤ −1). */
#if FLEXQ_SINGLE_ROUNDING
typedef struct {
  int32_t multiplier;
  int32_t total_shift; /* 31 − shift, 1..62 */
  int64_t round;       /* 2^(total_shift − 1) */
} flexq_fixed_constants;

static inline flexq_fixed_constants flexq_constants_of(int32_t multiplier, int32_t shift) {
  flexq_fixed_constants c;
  c.multiplier = multiplier;
  c.total_shift = 31 - shift;
  c.round = (int64_t)1 << (c.total_shift - 1);
  return c;
}

/* One rounding is one 64-bit multiply, add and shift whatever the shift. */
static inline int32_t flexq_multiply_channel(const flexq_fixed_constants *c, int32_t acc) {
  return (int32_t)(((int64_t)acc * c->multiplier + c->round) >> c->total_shift);
}

static inline int32_t flexq_multiply_right_shift(const flexq_fixed_constants *c, int32_t acc) { return flexq_multiply_channel(c, acc); }
#else
typedef struct {
  int32_t multiplier;
  int32_t left_shift;  /* max(shift, 0) */
  int32_t right_shift; /* max(−shift, 0) */
  /* 2^30 + 2^(30 + right_shift), the one-multiply path's rounding term (right_shift ≥ 1), as its two words */
  uint32_t round_low;
  int32_t round_high;
} flexq_fixed_constants;

static inline flexq_fixed_constants flexq_constants_of(int32_t multiplier, int32_t shift) {
  flexq_fixed_constants c;
  c.multiplier = multiplier;
  c.left_shift = shift > 0 ? shift : 0;
  c.right_shift = shift > 0 ? 0 : -shift;
  /* 2^(30+e) is 2^31 in the low word for e = 1, 2^(e−2) in the high word above */
  c.round_low = (1u << 30) | (c.right_shift == 1 ? 1u << 31 : 0u);
  c.round_high = (int32_t)((1u << c.right_shift) >> 2);
  return c;
}

/* flexq_multiply_by_quantized_multiplier for a right shift e ≥ 1 (then no left shift), in fewer operations, given a
 * multiplier b in [0, 2^31) (never INT32_MIN, so the doubling high mul cannot saturate). gemmlowp's nudge (2^30, or
 * 1 − 2^30 for a negative product) with a division truncating toward zero is x = floor((a·b + 2^30) / 2^31) for either
 * sign; the rounding divide (ties away from zero) is floor((x + 2^(e−1) − [x < 0]) / 2^e), and the two floors merge:
 *   y = floor((acc·b + 2^30 + 2^(30+e) − [acc < 0]·2^31) / 2^(31+e))
 * ([x < 0] may be read as [acc < 0]: where they differ, acc·b ∈ [−2^30, 0) and both give 0). That is an add of the
 * constant and the sign term (ADDS/ADC), one SMLAL of acc·b and a shift of the high word by e − 1. */
static inline int32_t flexq_multiply_right_shift(const flexq_fixed_constants *c, int32_t acc) {
  /* −[acc < 0]·2^31: acc's sign bit, as an int32 */
  const int64_t start = (int64_t)(((uint64_t)(uint32_t)c->round_high << 32) | c->round_low) + (int32_t)((uint32_t)acc & 0x80000000u);
  return (int32_t)((start + (int64_t)acc * c->multiplier) >> 32) >> (c->right_shift - 1);
}

/* flexq_multiply_by_quantized_multiplier for any acc and shift: flexq_multiply_right_shift, or with a right shift of 0
 * the doubling high mul alone. */
static inline int32_t flexq_multiply_channel(const flexq_fixed_constants *c, int32_t acc) {
  if (c->right_shift > 0) return flexq_multiply_right_shift(c, acc);
  const int32_t shifted = (int32_t)((uint32_t)acc << c->left_shift);
  return (int32_t)(((int64_t)shifted * c->multiplier + (1ll << 30)) >> 31);
}
#endif

/* Which fixed-point requantization code a layer may run, found once per call (flexq_requant_path_of) and passed as a
 * constant so the compiler keeps only that code: any shift; every channel with a right shift (a real multiplier below
 * 1/2: nearly every layer), through flexq_multiply_right_shift alone; and that with the whole int8 range as the clamp
 * (SSAT). */
enum { FLEXQ_REQUANT_ANY = 0, FLEXQ_REQUANT_RIGHT_SHIFT = 1, FLEXQ_REQUANT_RIGHT_SHIFT_INT8 = 2 };

/* y clamped to [−128, 127]: one SSAT where the core has it (gcc does not always find it in the two compares). */
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
static inline int32_t flexq_saturate_int8(int32_t y) {
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(y));
  return r;
}
#else
static inline int32_t flexq_saturate_int8(int32_t y) { return y < -128 ? -128 : y > 127 ? 127 : y; }
#endif

/* flexq_requantize's value for any acc, by the path (FLEXQ_REQUANT_*) the caller found for the channel: the multiply,
 * the zero point (wrapping like the runtime's int32) and the clamp. */
static inline __attribute__((always_inline)) int8_t flexq_requantize_fixed_as(const flexq_fixed_constants *c, int path, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
  const int32_t x = path == FLEXQ_REQUANT_ANY ? flexq_multiply_channel(c, acc) : flexq_multiply_right_shift(c, acc);
  int32_t y = (int32_t)((uint32_t)x + (uint32_t)zero_point);
  if (path == FLEXQ_REQUANT_RIGHT_SHIFT_INT8) return (int8_t)flexq_saturate_int8(y);
  if (y < min) y = min;
  if (y > max) y = max;
  return (int8_t)y;
}

static inline int8_t flexq_requantize_fixed(const flexq_fixed_constants *c, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
  return flexq_requantize_fixed_as(c, FLEXQ_REQUANT_ANY, zero_point, min, max, acc);
}

/* XNNPACK's float → int conversion (magic bias): v rounded half to even, for |v| ≤ 2^22: in v + 1.5·2^23 the last
 * mantissa bit is the units, and the float add rounds (to nearest even, the default mode). */
static inline int32_t flexq_round_half_to_even(float v) {
  const float biased = v + 12582912.0f;
  uint32_t bits;
  memcpy(&bits, &biased, sizeof bits);
  return (int32_t)bits - 0x4B400000;
}

/* The requantization of a weighted layer's output channels (flexq_channel_requant): the kernels unpack channel m's
 * constants once (flexq_channel_constants_of, or flexq_right_shift_constants_of where flexq_channel_path_of says it has
 * a right shift), find one path for a layer (flexq_requant_path_of) and requantize with flexq_requantize_as; the
 * reference kernels call flexq_requantize_at. */
#if FLEXQ_FP32_REQUANT
/* XNNPACK's fp32 requantization (its qs8/qc8 gemm, igemm and dwconv "fp32" microkernels; runtime mode tflite-xnnpack):
 *   v = fp32(fp32(acc) · scale[m]), clamped to [min − zero_point, max − zero_point] in float
 *   y = rne(v) + zero_point       rne: round half to even, by the magic bias 1.5·2^23 (exact for |v| ≤ 2^22)
 * Each float operation is its own statement, so no compiler contracts the multiply into a fused multiply-add. The path
 * is one for every layer: the float clamp serves any range. */
typedef struct {
  float scale;
} flexq_channel_constants;

static inline flexq_channel_constants flexq_channel_constants_of(const flexq_channel_requant *r, int32_t m) {
  flexq_channel_constants c;
  c.scale = r->scale[m];
  return c;
}

static inline flexq_channel_constants flexq_right_shift_constants_of(const flexq_channel_requant *r, int32_t m) { return flexq_channel_constants_of(r, m); }

static inline int flexq_channel_path_of(const flexq_channel_requant *r, int32_t m) {
  (void)r;
  (void)m;
  return FLEXQ_REQUANT_ANY;
}

static inline int flexq_requant_path_of(const flexq_channel_requant *r, int32_t channels) {
  (void)r;
  (void)channels;
  return FLEXQ_REQUANT_ANY;
}

static inline __attribute__((always_inline)) int8_t flexq_requantize_as(const flexq_channel_constants *c, int path, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
  (void)path;
  const float low = (float)(min - zero_point), high = (float)(max - zero_point);
  float v = (float)acc * c->scale;
  v = v < low ? low : v;
  v = v > high ? high : v;
  return (int8_t)(flexq_round_half_to_even(v) + zero_point);
}

/* Channels [m0, M) of r, as a layer of their own. */
static inline flexq_channel_requant flexq_channels_from(const flexq_channel_requant *r, int32_t m0) {
  flexq_channel_requant from = *r;
  from.scale += m0;
  return from;
}
#else
typedef flexq_fixed_constants flexq_channel_constants;

static inline flexq_channel_constants flexq_channel_constants_of(const flexq_channel_requant *r, int32_t m) {
  return flexq_constants_of(r->multiplier[m], r->shift[m]);
}

#if FLEXQ_SINGLE_ROUNDING
static inline flexq_channel_constants flexq_right_shift_constants_of(const flexq_channel_requant *r, int32_t m) { return flexq_channel_constants_of(r, m); }
#else
/* flexq_constants_of for a channel known to have a right shift, without branches. */
static inline flexq_fixed_constants flexq_right_shift_constants_of(const flexq_channel_requant *r, int32_t m) {
  flexq_channel_constants c;
  c.multiplier = r->multiplier[m];
  c.left_shift = 0;
  c.right_shift = -r->shift[m];
  c.round_low = (1u << 30) | ((uint32_t)(c.right_shift == 1) << 31);
  c.round_high = (int32_t)((1u << c.right_shift) >> 2);
  return c;
}

#endif

/* Channel m's path alone. */
static inline int flexq_channel_path_of(const flexq_channel_requant *r, int32_t m) {
  if (r->shift[m] > -1) return FLEXQ_REQUANT_ANY;
  return r->min == -128 && r->max == 127 ? FLEXQ_REQUANT_RIGHT_SHIFT_INT8 : FLEXQ_REQUANT_RIGHT_SHIFT;
}

/* The path every channel of a layer (channels ≥ 1) may take. */
static inline int flexq_requant_path_of(const flexq_channel_requant *r, int32_t channels) {
  for (int32_t m = 0; m < channels; m++)
    if (flexq_channel_path_of(r, m) == FLEXQ_REQUANT_ANY) return FLEXQ_REQUANT_ANY;
  return flexq_channel_path_of(r, 0);
}

static inline __attribute__((always_inline)) int8_t flexq_requantize_as(const flexq_channel_constants *c, int path, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
  return flexq_requantize_fixed_as(c, path, zero_point, min, max, acc);
}

static inline flexq_channel_requant flexq_channels_from(const flexq_channel_requant *r, int32_t m0) {
  flexq_channel_requant from = *r;
  from.multiplier += m0;
  from.shift += m0;
  return from;
}
#endif

static inline int8_t flexq_requantize_channel(const flexq_channel_constants *c, int32_t zero_point, int32_t min, int32_t max, int32_t acc) {
  return flexq_requantize_as(c, FLEXQ_REQUANT_ANY, zero_point, min, max, acc);
}

/* Channel m's requantization of acc, for the reference kernels: TFLite-Micro's flexq_requantize in the fixed-point
 * builds. */
static inline int8_t flexq_requantize_at(const flexq_channel_requant *r, int32_t m, int32_t acc) {
#if FLEXQ_FP32_REQUANT
  const flexq_channel_constants c = flexq_channel_constants_of(r, m);
  return flexq_requantize_channel(&c, r->zero_point, r->min, r->max, acc);
#else
  const flexq_requant c = {r->multiplier[m], r->shift[m], r->zero_point, r->min, r->max};
  return flexq_requantize(&c, acc);
#endif
}

/* A Mul's requantization rule (flexq_mul_requant), found once per call (flexq_mul_rule_of) and passed as a constant:
 * the fixed point (in the fp32 build TFLite's own MUL, double rounding), or XNNPACK's fp32 qs8 multiply. */
enum { FLEXQ_MUL_FIXED_POINT = 0, FLEXQ_MUL_FP32 = 1 };

#if FLEXQ_FP32_REQUANT
static inline int flexq_mul_rule_of(const flexq_mul_requant *r) { return r->scale > 0.0f ? FLEXQ_MUL_FP32 : FLEXQ_MUL_FIXED_POINT; }

/* XNNPACK's rule is the weighted layers' fp32 requantization with the Mul's scale. */
static inline __attribute__((always_inline)) int8_t flexq_requantize_mul_as(const flexq_mul_requant *r, int rule, int32_t acc) {
  if (rule == FLEXQ_MUL_FIXED_POINT) return flexq_offset_and_clamp(&r->fixed, flexq_multiply_double_rounding(acc, r->fixed.multiplier, r->fixed.shift));
  flexq_channel_constants c;
  c.scale = r->scale;
  return flexq_requantize_channel(&c, r->fixed.zero_point, r->fixed.min, r->fixed.max, acc);
}
#else
static inline int flexq_mul_rule_of(const flexq_mul_requant *r) {
  (void)r;
  return FLEXQ_MUL_FIXED_POINT;
}

static inline __attribute__((always_inline)) int8_t flexq_requantize_mul_as(const flexq_mul_requant *r, int rule, int32_t acc) {
  (void)rule;
  return flexq_requantize(r, acc);
}
#endif

#endif
