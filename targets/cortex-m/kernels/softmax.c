/* SPDX-License-Identifier: Apache-2.0 */
/* Softmax over one axis, integers only: TFLite-Micro's int8 softmax (reference_ops::Softmax) with gemmlowp's
 * fixed-point exp and reciprocal; no libm, no float. Qm.n: an int32 holding value · 2^n (m integer bits).
 * Per slice (outer × inner slices of `length` values, `inner` apart), d = x − max x:
 *   d < diff_min: exp(d · s_in) is negligible: skipped, y = output_min
 *   a   = SRDHM(d · 2^input_left_shift, input_multiplier)      d · s_in in Q5.26
 *   e   = exp_on_negative_values(a)                              Q0.31
 *   sum = Σ RoundingDivideByPOT(e, 12)                           Q12.19
 *   n   = 12 − clz(sum); r = 1 / (sum · 2^−n) in Q0.31 (Newton–Raphson, one_over_one_plus_x)
 *   y   = clamp(RoundingDivideByPOT(SRDHM(r, e), n + 31 − output_bits) + output_zero_point, min, max)
 * A shift above 31 (a long slice of near-equal values) gives 0 before the zero point: the quotient is below ½. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

/* gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent: x · 2^exponent, saturated to int32. */
static int32_t saturating_shift_left(int32_t x, int32_t exponent) {
  const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* Wrapping int32 addition (gemmlowp's raw Add, which never overflows on these ranges). */
static int32_t add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* (a + b) / 2 rounded to nearest, ties away from zero. */
static int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [−1/4, 0), Q0.31: Taylor expansion around −1/8. */
static int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t constant_term = 1895147668; /* exp(−1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = add_wrap(a, 1 << 28);
  const int32_t x2 = flexq_saturating_rounding_doubling_high_mul(x, x);
  const int32_t x3 = flexq_saturating_rounding_doubling_high_mul(x2, x);
  const int32_t x4 = flexq_saturating_rounding_doubling_high_mul(x2, x2);
  const int32_t x4_over_4 = flexq_rounding_divide_by_pot(x4, 2);
  const int32_t poly = flexq_rounding_divide_by_pot(
      add_wrap(flexq_saturating_rounding_doubling_high_mul(add_wrap(x4_over_4, x3), one_third), x2), 1);
  return add_wrap(constant_term, flexq_saturating_rounding_doubling_high_mul(constant_term, add_wrap(x, poly)));
}

/* exp(−2^k), Q0.31, for k = −2..4: the factors of the barrel shifter over the input's multiples of ¼. */
static const int32_t exp_barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};

/* exp(a) for a ≤ 0: Q5.26 in, Q0.31 out. */
static int32_t exp_on_negative_values(int32_t a) {
  const int32_t fractional_bits = 31 - SCALED_DIFF_INTEGER_BITS;
  const int32_t quarter = 1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      saturating_shift_left(a_mod_quarter_minus_quarter, SCALED_DIFF_INTEGER_BITS));
  const uint32_t remainder = (uint32_t)a_mod_quarter_minus_quarter - (uint32_t)a;
  for (int32_t k = 0; k < 7; k++)
    if (remainder & (1u << (fractional_bits - 2 + k))) result = flexq_saturating_rounding_doubling_high_mul(result, exp_barrel[k]);
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out: three Newton–Raphson steps in Q2.29. */
static int32_t one_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
  int32_t x = add_wrap(1515870810, flexq_saturating_rounding_doubling_high_mul(half_denominator, -1010580540));
  for (int32_t i = 0; i < 3; i++) {
    const int32_t one_minus_half_denominator_times_x = (1 << 29) - flexq_saturating_rounding_doubling_high_mul(half_denominator, x);
    x = add_wrap(x, saturating_shift_left(flexq_saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2));
  }
  return saturating_shift_left(x, 1);
}

/* Leading zero bits of a non-zero value. */
static int32_t count_leading_zeros(uint32_t x) {
  int32_t n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
}

static int32_t scaled_exp(const flexq_softmax_params *p, int32_t diff) {
  const int32_t shifted = (int32_t)((uint32_t)diff << p->input_left_shift);
  return exp_on_negative_values(flexq_saturating_rounding_doubling_high_mul(shifted, p->input_multiplier));
}

void flexq_softmax_s8(const flexq_softmax_params *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; o++) {
    for (int32_t i = 0; i < p->inner; i++) {
      const int8_t *x = input + o * p->length * p->inner + i;
      int8_t *y = output + o * p->length * p->inner + i;
      int32_t max = -128;
      for (int32_t k = 0; k < p->length; k++)
        if (x[k * p->inner] > max) max = x[k * p->inner];
      int32_t sum = 0;
      for (int32_t k = 0; k < p->length; k++) {
        const int32_t diff = x[k * p->inner] - max;
        if (diff >= p->diff_min) sum = add_wrap(sum, flexq_rounding_divide_by_pot(scaled_exp(p, diff), ACCUMULATION_INTEGER_BITS));
      }
      const int32_t headroom_plus_one = count_leading_zeros((uint32_t)sum);
      const int32_t scale = one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom_plus_one) - 0x80000000u));
      const int32_t exponent = ACCUMULATION_INTEGER_BITS - headroom_plus_one + 31 - p->output_bits;
      for (int32_t k = 0; k < p->length; k++) {
        const int32_t diff = x[k * p->inner] - max;
        int32_t q = p->output_min;
        if (diff >= p->diff_min) {
          const int32_t product = flexq_saturating_rounding_doubling_high_mul(scale, scaled_exp(p, diff));
          q = (exponent > 31 ? 0 : flexq_rounding_divide_by_pot(product, exponent)) + p->output_zero_point;
          if (q < p->output_min) q = p->output_min;
          if (q > p->output_max) q = p->output_max;
        }
        y[k * p->inner] = (int8_t)q;
      }
    }
  }
}
