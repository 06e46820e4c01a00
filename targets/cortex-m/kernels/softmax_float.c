/* SPDX-License-Identifier: Apache-2.0 */
/* Softmax over one axis in double, as LiteRT.js runs an int8 SOFTMAX (flexq's runtime mode tflite-xnnpack; the C of
 * --rounding xnnpack). Per slice (outer × inner slices of `length` values, `inner` apart):
 *   v = fp32(input_scale · (x − input_zero_point));  e = exp(v − max v), the difference and exp in double
 *   y = clamp(round_half_away(fp32((e / Σ e) / output_scale)) + output_zero_point, output_min, output_max)
 * Σ in element order. exp is fdlibm's, as V8's Math.exp computes it (base/ieee754.cc), not libm's: libms differ in
 * the last bit (glibc's exp on 9 % of the test's 10^6 arguments, newlib's on the M7 on 10 % of 200,000), and one bit
 * moves a byte where the quotient lands next to a half. No libm. */
#include <string.h>
#include "flexq_kernels.h"

/* No fused multiply-adds, which round once where V8 rounds twice: clang fuses within an expression unless told (gcc
 * does not under -std=c99, only in its GNU modes). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static double from_high_word(uint32_t high) {
  const uint64_t bits = (uint64_t)high << 32;
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static uint32_t high_word(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return (uint32_t)(bits >> 32);
}

/* Derived from fdlibm's e_exp.c, whose notice is kept as it asks:
 *   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *   Developed at SunPro, a Sun Microsystems, Inc. business.
 *   Permission to use, copy, modify, and distribute this software is freely granted, provided that this notice
 *   is preserved.
 * fdlibm's exp (with V8's changes) for x ≤ 0: x = k·ln2 + r, |r| ≤ ln2/2, with ln2 in two parts so k·ln2_hi
 * is exact; exp(r) from a degree-5 rational fit in r²; then · 2^k (through 2^(k+1000) · 2^−1000 below 2^−1021).
 * Each operation is one IEEE double operation: the same bits on any core (hardware or libgcc's soft double). */
static double exp_nonpositive(double x) {
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10, inv_ln2 = 1.44269504088896338700e+00;
  const double p1 = 1.66666666666666019037e-01, p2 = -2.77777777770155933842e-03, p3 = 6.61375632143793436117e-05;
  const double p4 = -1.65339022054652515390e-06, p5 = 4.13813679705723846039e-08;
  const uint32_t magnitude = high_word(x) & 0x7fffffffu;
  double hi = 0.0, lo = 0.0;
  int32_t k = 0;
  if (x < -7.45133219101941108420e+02) return 0.0; /* below half the least subnormal */
  if (magnitude > 0x3fd62e42u) {                   /* |x| > ln2/2 */
    if (magnitude < 0x3ff0a2b2u) {                 /* |x| < 3·ln2/2: k = −1 */
      hi = x + ln2_hi;
      lo = -ln2_lo;
      k = -1;
    } else {
      k = (int32_t)(inv_ln2 * x - 0.5); /* toward zero: rounds the negative quotient to nearest */
      const double kd = (double)k;
      hi = x - kd * ln2_hi;
      lo = kd * ln2_lo;
    }
    x = hi - lo;
  } else if (magnitude < 0x3e300000u) { /* |x| < 2^−28 */
    return 1.0 + x;
  }
  const double t = x * x;
  const double c = x - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) return y * from_high_word(0x3ff00000u + ((uint32_t)k << 20));
  return y * from_high_word(0x3ff00000u + ((uint32_t)(k + 1000) << 20)) * 9.33263618503218878990e-302;
}

/* round_half_away(r) for r ≥ 0 (a probability over a positive scale), saturated past any int8 grid; r − (int32_t)r is
 * exact below 2^24. */
static int32_t round_nonnegative(float r) {
  if (r >= 512.0f) return 512;
  const int32_t q = (int32_t)r;
  return r - (float)q >= 0.5f ? q + 1 : q;
}

void flexq_softmax_s8_float(const flexq_softmax_float_params *p, const int8_t *input, int8_t *output) {
  const int32_t length = p->length, inner = p->inner;
  const double output_scale = (double)p->output_scale;
  for (int32_t o = 0; o < p->outer; o++) {
    for (int32_t i = 0; i < inner; i++) {
      const int8_t *x = input + o * length * inner + i;
      int8_t *y = output + o * length * inner + i;
      int32_t max = -128;
      for (int32_t k = 0; k < length; k++) max = x[k * inner] > max ? x[k * inner] : max;
      /* fp32(s · d) grows with d (s > 0): the largest v is the largest x's */
      const double v_max = (double)(p->input_scale * (float)(max - p->input_zero_point));
      double sum = 0.0;
      for (int32_t k = 0; k < length; k++) sum += exp_nonpositive((double)(p->input_scale * (float)(x[k * inner] - p->input_zero_point)) - v_max);
      for (int32_t k = 0; k < length; k++) {
        const double e = exp_nonpositive((double)(p->input_scale * (float)(x[k * inner] - p->input_zero_point)) - v_max);
        const int32_t q = round_nonnegative((float)((e / sum) / output_scale)) + p->output_zero_point;
        y[k * inner] = (int8_t)(q < p->output_min ? p->output_min : q > p->output_max ? p->output_max : q);
      }
    }
  }
}
