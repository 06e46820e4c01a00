/* SPDX-License-Identifier: Apache-2.0 */
/* Bilinear resize of int8 [C, in_h, in_w] on one grid: TFLite's reference ResizeBilinearInteger (default build).
 * The source rows, columns and 10-bit weights are computed by flexq's code generator with the integer runtime's own
 * function (ComputeInterpolationValuesInteger). Per output pixel, with wy = row weight, wx = column weight:
 *   acc = x[r0][c0]·(1024 − wy)·(1024 − wx) + x[r1][c0]·wy·(1024 − wx) + x[r0][c1]·(1024 − wy)·wx + x[r1][c1]·wy·wx
 *   y = (acc ± 2^19) / 2^20, C division (half away from zero); |acc| ≤ 128 · 2^20 fits int32.
 * Under FLEXQ_SINGLE_ROUNDING (TFLite's single-rounding build, the runtime's tflite-single): y = ⌊(acc + 2^19) / 2^20⌋. */
#include "flexq_kernels.h"

static int8_t rounded(int32_t acc) {
  const int32_t half = 1 << 19, one = 1 << 20;
#if defined(FLEXQ_SINGLE_ROUNDING) && FLEXQ_SINGLE_ROUNDING
  const int32_t v = acc + half;
  return (int8_t)(v >= 0 ? v / one : -((one - 1 - v) / one)); /* floor, without shifting a negative value */
#else
  return (int8_t)((acc + (acc > 0 ? half : -half)) / one);
#endif
}

void flexq_resize_bilinear_s8(const flexq_resize_bilinear_params *p, const int8_t *input, int8_t *output) {
  for (int32_t c = 0; c < p->channels; c++) {
    const int8_t *plane = input + c * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int8_t *r0 = plane + p->row_lower[oy] * p->in_w;
      const int8_t *r1 = plane + p->row_upper[oy] * p->in_w;
      const int32_t wy = p->row_weight[oy], gy = 1024 - wy;
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t c0 = p->col_lower[ox], c1 = p->col_upper[ox];
        const int32_t wx = p->col_weight[ox], gx = 1024 - wx;
        const int32_t acc = r0[c0] * gy * gx + r1[c0] * wy * gx + r0[c1] * gy * wx + r1[c1] * wy * wx;
        *output++ = rounded(acc);
      }
    }
  }
}
