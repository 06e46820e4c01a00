/* SPDX-License-Identifier: Apache-2.0 */
/* MaxPool on one grid (output keeps the input's scale and zero point): the maximum raw int8 over the window's taps
 * that lie inside the input; padding and the ceil-mode overhang are skipped. */
#include "flexq_kernels.h"

void flexq_max_pool_s8(const flexq_pool_params *p, const int8_t *input, int8_t *output) {
  const flexq_window *w = &p->window;
  for (int32_t c = 0; c < w->in_c; c++) {
    const int8_t *plane = input + c * w->in_h * w->in_w;
    for (int32_t oy = 0; oy < w->out_h; oy++) {
      for (int32_t ox = 0; ox < w->out_w; ox++) {
        const int32_t y0 = oy * w->stride_h - w->pad_top;
        const int32_t x0 = ox * w->stride_w - w->pad_left;
        int32_t best = -129;
        for (int32_t ky = 0; ky < w->kernel_h; ky++) {
          const int32_t iy = y0 + ky * w->dilation_h;
          if (iy < 0 || iy >= w->in_h) continue;
          for (int32_t kx = 0; kx < w->kernel_w; kx++) {
            const int32_t ix = x0 + kx * w->dilation_w;
            if (ix < 0 || ix >= w->in_w) continue;
            const int32_t v = plane[iy * w->in_w + ix];
            if (v > best) best = v;
          }
        }
        *output++ = (int8_t)best;
      }
    }
  }
}
