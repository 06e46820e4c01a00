/* SPDX-License-Identifier: Apache-2.0 */
/* AveragePool on one grid: TFLite's reference_integer_ops::AveragePool. The window is clipped to the input and
 * sum = Σ x over it, count = its size; with count_include_pad (ONNX) padded taps hold the zero point:
 * sum = Σ (x − z), count = the window clipped to the padded extent, y = z + the division.
 * y = (sum > 0 ? sum + count/2 : sum − count/2) / count, C division (truncation). */
#include "flexq_kernels.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

void flexq_average_pool_s8(const flexq_pool_params *p, const int8_t *input, int8_t *output) {
  const flexq_window *w = &p->window;
  const int32_t offset = p->count_include_pad ? p->zero_point : 0;
  for (int32_t c = 0; c < w->in_c; c++) {
    const int8_t *plane = input + c * w->in_h * w->in_w;
    for (int32_t oy = 0; oy < w->out_h; oy++) {
      const int32_t y0 = oy * w->stride_h - w->pad_top;
      const int32_t y_start = max_i32(0, y0), y_end = min_i32(w->in_h, y0 + w->kernel_h);
      for (int32_t ox = 0; ox < w->out_w; ox++) {
        const int32_t x0 = ox * w->stride_w - w->pad_left;
        const int32_t x_start = max_i32(0, x0), x_end = min_i32(w->in_w, x0 + w->kernel_w);
        int32_t sum = 0;
        for (int32_t iy = y_start; iy < y_end; iy++)
          for (int32_t ix = x_start; ix < x_end; ix++) sum += plane[iy * w->in_w + ix] - offset;
        const int32_t count = p->count_include_pad
          ? (min_i32(w->in_h + p->pad_bottom, y0 + w->kernel_h) - max_i32(-w->pad_top, y0)) *
            (min_i32(w->in_w + p->pad_right, x0 + w->kernel_w) - max_i32(-w->pad_left, x0))
          : (y_end - y_start) * (x_end - x_start);
        const int32_t rounded = (sum > 0 ? sum + count / 2 : sum - count / 2) / count;
        *output++ = (int8_t)(rounded + offset);
      }
    }
  }
}
