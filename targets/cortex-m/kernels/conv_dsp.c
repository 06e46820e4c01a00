/* SPDX-License-Identifier: Apache-2.0 */
/* Conv (one group), Cortex-M DSP extension: im2col of two output pixels at a time into int16 rows of
 * x + input_offset (padded taps 0), then the dual-MAC GEMM of gemm_dsp.c. Bit-exact to flexq's reference Conv kernel: the same sum of the
 * same products, in another order (int32 addition). Weights: rows of depth4 = round_up(C·kh·kw, 4) in the
 * interleaved order of gemm_dsp.h. Scratch: two rows of depth4 int16. */
#include "flexq_kernels.h"
#include "gemm_dsp.h"

static int32_t depth4_of(const flexq_conv_params *p) {
  const flexq_window *w = &p->window;
  return (w->in_c * w->kernel_h * w->kernel_w + 3) & ~3;
}

/* Row of pixel (oy, ox): its window [c][ky][kx] plus the input offset, taps outside the input 0. */
static void gather_window(const flexq_conv_params *p, const int8_t *input, int32_t oy, int32_t ox, int16_t *row, int32_t depth4) {
  const flexq_window *w = &p->window;
  const int32_t y0 = oy * w->stride_h - w->pad_top;
  const int32_t x0 = ox * w->stride_w - w->pad_left;
  const int32_t offset = p->input_offset;
  const int32_t x_last = x0 + (w->kernel_w - 1) * w->dilation_w;
  const int row_inside = x0 >= 0 && x_last < w->in_w;
  int16_t *dst = row;
  for (int32_t c = 0; c < w->in_c; c++) {
    const int8_t *plane = input + c * w->in_h * w->in_w;
    for (int32_t ky = 0; ky < w->kernel_h; ky++) {
      const int32_t iy = y0 + ky * w->dilation_h;
      if (iy < 0 || iy >= w->in_h) {
        for (int32_t kx = 0; kx < w->kernel_w; kx++) *dst++ = 0;
        continue;
      }
      const int8_t *src = plane + iy * w->in_w + x0;
      if (row_inside) {
        for (int32_t kx = 0; kx < w->kernel_w; kx++) *dst++ = (int16_t)(src[kx * w->dilation_w] + offset);
      } else {
        for (int32_t kx = 0; kx < w->kernel_w; kx++) {
          const int32_t ix = x0 + kx * w->dilation_w;
          *dst++ = (ix < 0 || ix >= w->in_w) ? 0 : (int16_t)(src[kx * w->dilation_w] + offset);
        }
      }
    }
  }
  while (dst < row + depth4) *dst++ = 0;
}

void flexq_conv_s8_dsp(const flexq_conv_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const int32_t depth4 = depth4_of(p);
  const int32_t pixels = w->out_h * w->out_w;
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = px + 1 < pixels ? 2 : 1;
    for (int32_t r = 0; r < rows; r++) gather_window(p, input, (px + r) / w->out_w, (px + r) % w->out_w, scratch + r * depth4, depth4);
    flexq_gemm_rows_dsp(scratch, rows, p->weights, depth4, w->out_c, p->bias, &p->requant, output + px, pixels, 1);
  }
}
