/* SPDX-License-Identifier: Apache-2.0 */
/* Bilinear resize of int8 [C, in_h, in_w] on one grid. The source rows, columns and weights are computed by flexq's
 * code generator with the integer runtime's own functions; per output pixel, with wy = row weight, wx = column weight:
 * flexq_resize_bilinear_s8: TFLite's reference ResizeBilinearInteger (default build), 10-bit weights
 * (ComputeInterpolationValuesInteger):
 *   acc = x[r0][c0]·(1024 − wy)·(1024 − wx) + x[r1][c0]·wy·(1024 − wx) + x[r0][c1]·(1024 − wy)·wx + x[r1][c1]·wy·wx
 *   y = (acc ± 2^19) / 2^20, C division (half away from zero); |acc| ≤ 128 · 2^20 fits int32.
 *   Under FLEXQ_SINGLE_ROUNDING (TFLite's single-rounding build, the runtime's tflite-single): y = ⌊(acc + 2^19) / 2^20⌋.
 * flexq_resize_bilinear_s8_xnnpack: XNNPACK's s8 resize (LiteRT.js's delegate; the runtime's tflite-xnnpack, the C of
 * --rounding xnnpack), 11-bit weights (xnnpackAxis), two lerps in int32:
 *   top = x[r0][c0]·2048 + (x[r0][c1] − x[r0][c0])·wx,  bottom alike on r1
 *   y = ⌊(top·2048 + (bottom − top)·wy + 2^21) / 2^22⌋ (half up);  |top·2048 + (bottom − top)·wy| ≤ 2^29. */
#include "flexq_kernels.h"

/* Which interpolation the loop runs, a constant after inlining. */
enum { TFLITE_10_BIT = 0, XNNPACK_11_BIT = 1 };

static int8_t rounded_tflite(int32_t acc) {
  const int32_t half = 1 << 19, one = 1 << 20;
#if defined(FLEXQ_SINGLE_ROUNDING) && FLEXQ_SINGLE_ROUNDING
  const int32_t v = acc + half;
  return (int8_t)(v >= 0 ? v / one : -((one - 1 - v) / one)); /* floor, without shifting a negative value */
#else
  return (int8_t)((acc + (acc > 0 ? half : -half)) / one);
#endif
}

/* The four corners x00 = x[r0][c0], x01 = x[r0][c1], x10 = x[r1][c0], x11 = x[r1][c1] by one rule. */
static inline __attribute__((always_inline)) int8_t interpolate(int rule, int32_t x00, int32_t x01, int32_t x10, int32_t x11, int32_t wx, int32_t wy) {
  if (rule == TFLITE_10_BIT) {
    const int32_t gx = 1024 - wx, gy = 1024 - wy;
    return rounded_tflite(x00 * gy * gx + x10 * wy * gx + x01 * gy * wx + x11 * wy * wx);
  }
  const int32_t top = x00 * 2048 + (x01 - x00) * wx;
  const int32_t bottom = x10 * 2048 + (x11 - x10) * wx;
  /* the floor shifts a non-negative value: the sum is at least −2^29 */
  return (int8_t)(((top * 2048 + (bottom - top) * wy + (1 << 21) + (1 << 29)) >> 22) - 128);
}

static inline __attribute__((always_inline)) void resize_as(const flexq_resize_bilinear_params *p, int rule, const int8_t *input, int8_t *output) {
  for (int32_t c = 0; c < p->channels; c++) {
    const int8_t *plane = input + c * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int8_t *r0 = plane + p->row_lower[oy] * p->in_w;
      const int8_t *r1 = plane + p->row_upper[oy] * p->in_w;
      const int32_t wy = p->row_weight[oy];
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t c0 = p->col_lower[ox], c1 = p->col_upper[ox];
        *output++ = interpolate(rule, r0[c0], r0[c1], r1[c0], r1[c1], p->col_weight[ox], wy);
      }
    }
  }
}

void flexq_resize_bilinear_s8(const flexq_resize_bilinear_params *p, const int8_t *input, int8_t *output) {
  resize_as(p, TFLITE_10_BIT, input, output);
}

void flexq_resize_bilinear_s8_xnnpack(const flexq_resize_bilinear_params *p, const int8_t *input, int8_t *output) {
  resize_as(p, XNNPACK_11_BIT, input, output);
}
