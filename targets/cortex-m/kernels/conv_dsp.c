/* SPDX-License-Identifier: Apache-2.0 */
/* Conv (one group), Cortex-M DSP extension: im2col of two output pixels at a time into int16 rows of the raw input
 * (taps in the padding hold pad_value, the input's zero point, which the folded bias turns into 0), then the dual-MAC
 * GEMM of gemm_dsp.c. Bit-exact to flexq's reference Conv kernel: the same sum of the same products, in another order
 * (int32 addition). Weights: depth4 = round_up(C·kh·kw, 4) taps per channel, packed as gemm_dsp.h says.
 * Scratch: two rows of depth4 int16. */
#include "flexq_kernels.h"
#include "gemm_dsp.h"

static int32_t depth4_of(const flexq_window *w) { return (w->in_c * w->kernel_h * w->kernel_w + 3) & ~3; }

/* Row of pixel (oy, ox): its window [c][ky][kx], taps outside the input pad. */
static void gather_window(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *row, int32_t depth4) {
  const int32_t in_c = w->in_c, in_h = w->in_h, in_w = w->in_w, kernel_h = w->kernel_h, kernel_w = w->kernel_w;
  const int32_t dilation_h = w->dilation_h, dilation_w = w->dilation_w;
  const int32_t y0 = oy * w->stride_h - w->pad_top;
  const int32_t x0 = ox * w->stride_w - w->pad_left;
  const int row_inside = x0 >= 0 && x0 + (kernel_w - 1) * dilation_w < in_w;
  const int dense = row_inside && dilation_w == 1;
  int16_t *dst = row;
  const int8_t *plane = input;
  for (int32_t c = 0; c < in_c; c++, plane += in_h * in_w) {
    for (int32_t ky = 0; ky < kernel_h; ky++) {
      const int32_t iy = y0 + ky * dilation_h;
      if (iy < 0 || iy >= in_h) {
        for (int32_t kx = 0; kx < kernel_w; kx++) *dst++ = pad;
        continue;
      }
      const int8_t *src = plane + iy * in_w + x0;
      if (dense) {
        for (int32_t kx = 0; kx < kernel_w; kx++) dst[kx] = src[kx];
        dst += kernel_w;
      } else {
        for (int32_t kx = 0; kx < kernel_w; kx++) {
          const int32_t ix = x0 + kx * dilation_w;
          *dst++ = (ix < 0 || ix >= in_w) ? pad : src[kx * dilation_w];
        }
      }
    }
  }
  while (dst < row + depth4) *dst++ = 0;
}

/* Row of pixel (iy, ix) of a 1×1 window without padding: its C channels. */
static void gather_pointwise(const flexq_window *w, const int8_t *input, int32_t iy, int32_t ix, int16_t *row, int32_t depth4) {
  const int32_t plane_size = w->in_h * w->in_w, in_c = w->in_c;
  const int8_t *src = input + iy * w->in_w + ix;
  for (int32_t c = 0; c < in_c; c++, src += plane_size) row[c] = *src;
  for (int32_t c = in_c; c < depth4; c++) row[c] = 0;
}

void flexq_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const int32_t depth4 = depth4_of(w);
  const int32_t pixels = w->out_h * w->out_w;
  const int pointwise = w->kernel_h == 1 && w->kernel_w == 1 && w->pad_top == 0 && w->pad_left == 0;
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = px + 1 < pixels ? 2 : 1;
    for (int32_t r = 0; r < rows; r++) {
      const int32_t oy = (px + r) / w->out_w, ox = (px + r) % w->out_w;
      if (pointwise) gather_pointwise(w, input, oy * w->stride_h, ox * w->stride_w, scratch + r * depth4, depth4);
      else gather_window(w, (int16_t)p->pad_value, input, oy, ox, scratch + r * depth4, depth4);
    }
    flexq_gemm_rows_dsp(scratch, rows, p->weights, depth4, w->out_c, p->bias, &p->requant, output + px, pixels, 1);
  }
}
