/* SPDX-License-Identifier: Apache-2.0 */
/* Conv, reference: TFLite-Micro's reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel loops on NCHW,
 * with groups (depthwise is groups = C). Contract, for output channel m of group g = m / (M/groups):
 *   acc = bias[m] + Σ_{c, ky, kx inside the input} (x[g·C/groups + c][iy][ix] + input_offset) · w[m][c][ky][kx]
 *   iy = oy·stride_h − pad_top + ky·dilation_h (likewise ix); padded taps are skipped (they hold the zero point)
 *   y[m][oy][ox] = requant_m(acc), channel m's multiplier and shift (or fp32 scale: flexq_requant.h) */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_conv_s8(const flexq_conv_params *p, const int8_t *input, int8_t *output) {
  const flexq_window *w = &p->window;
  const int32_t group_in = w->in_c / p->groups;
  const int32_t group_out = w->out_c / p->groups;
  for (int32_t m = 0; m < w->out_c; m++) {
    const int8_t *filter = p->weights + m * group_in * w->kernel_h * w->kernel_w;
    const int8_t *planes = input + (m / group_out) * group_in * w->in_h * w->in_w;
    for (int32_t oy = 0; oy < w->out_h; oy++) {
      for (int32_t ox = 0; ox < w->out_w; ox++) {
        const int32_t y0 = oy * w->stride_h - w->pad_top;
        const int32_t x0 = ox * w->stride_w - w->pad_left;
        int32_t acc = 0;
        for (int32_t c = 0; c < group_in; c++) {
          for (int32_t ky = 0; ky < w->kernel_h; ky++) {
            const int32_t iy = y0 + ky * w->dilation_h;
            if (iy < 0 || iy >= w->in_h) continue;
            for (int32_t kx = 0; kx < w->kernel_w; kx++) {
              const int32_t ix = x0 + kx * w->dilation_w;
              if (ix < 0 || ix >= w->in_w) continue;
              const int32_t x = planes[(c * w->in_h + iy) * w->in_w + ix];
              acc += (x + p->input_offset) * filter[(c * w->kernel_h + ky) * w->kernel_w + kx];
            }
          }
        }
        output[(m * w->out_h + oy) * w->out_w + ox] = flexq_requantize_at(&p->requant, m, acc + p->bias[m]);
      }
    }
  }
}
