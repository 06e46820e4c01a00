/* SPDX-License-Identifier: Apache-2.0 */
/* Conv (one group), Cortex-M DSP extension: im2col of two output pixels at a time into int16 rows of the raw input
 * (taps in the padding hold pad_value, the input's zero point, which the folded bias turns into 0), interleaved as
 * gemm_dsp.h says, then the dual-MAC GEMM of gemm_dsp.c. Bit-exact to flexq's reference Conv kernel: the same sum of
 * the same products, in another order (int32 addition). Weights: depth8 = round_up(C·kh·kw, 8) taps per channel, packed
 * as gemm_dsp.h says. Scratch: the two interleaved rows (2·depth8 int16), then, for a window other than an unpadded
 * 1×1, one row of depth8 int16 that each window is gathered into before it is interleaved. */
#include "flexq_kernels.h"
#include "gemm_dsp.h"
#include "flexq_requant.h"

static int32_t depth8_of(const flexq_window *w) { return (w->in_c * w->kernel_h * w->kernel_w + 7) & ~7; }

static int16_t *fill(int16_t *dst, int32_t count, int16_t value) {
  for (int32_t i = 0; i < count; i++) dst[i] = value;
  return dst + count;
}

/* Row of pixel (oy, ox): its window [c][ky][kx], taps outside the input pad. Rows of the window outside the input
 * are found once per pixel; a window row wholly inside with dilation 1 is a plain copy. */
static void gather_window(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *row, int32_t depth8) {
  const int32_t in_h = w->in_h, in_w = w->in_w, kernel_h = w->kernel_h, kernel_w = w->kernel_w;
  const int32_t dilation_h = w->dilation_h, dilation_w = w->dilation_w;
  const int32_t y0 = oy * w->stride_h - w->pad_top;
  const int32_t x0 = ox * w->stride_w - w->pad_left;
  int32_t ky_begin = 0, ky_end = kernel_h;
  while (ky_begin < kernel_h && y0 + ky_begin * dilation_h < 0) ky_begin++;
  while (ky_end > ky_begin && y0 + (ky_end - 1) * dilation_h >= in_h) ky_end--;
  const int dense = x0 >= 0 && x0 + (kernel_w - 1) * dilation_w < in_w && dilation_w == 1;
  const int32_t row_step = dilation_h * in_w;
  int16_t *dst = row;
  const int8_t *plane = input + (y0 + ky_begin * dilation_h) * in_w + x0;
  for (int32_t c = 0; c < w->in_c; c++, plane += in_h * in_w) {
    dst = fill(dst, ky_begin * kernel_w, pad);
    const int8_t *src = plane;
    if (dense && kernel_w == 3) {
      for (int32_t ky = ky_begin; ky < ky_end; ky++, src += row_step, dst += 3) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
      }
    } else if (dense) {
      for (int32_t ky = ky_begin; ky < ky_end; ky++, src += row_step, dst += kernel_w)
        for (int32_t kx = 0; kx < kernel_w; kx++) dst[kx] = src[kx];
    } else {
      for (int32_t ky = ky_begin; ky < ky_end; ky++, src += row_step) {
        for (int32_t kx = 0; kx < kernel_w; kx++) {
          const int32_t ix = x0 + kx * dilation_w;
          *dst++ = (ix < 0 || ix >= in_w) ? pad : src[kx * dilation_w];
        }
      }
    }
    dst = fill(dst, (kernel_h - ky_end) * kernel_w, pad);
  }
  fill(dst, (int32_t)(row + depth8 - dst), 0);
}

/* A gathered row into slot r of the interleaved rows: two words per group of four taps. */
static void interleave(const int16_t *row, int32_t r, int32_t depth8, int16_t *rows) {
  uint32_t *dst = (uint32_t *)(void *)(rows + flexq_interleaved_at(r, 0));
  const uint32_t *src = (const uint32_t *)(const void *)row;
  for (int32_t k = 0; k < depth8; k += 4, src += 2, dst += 4) {
    dst[0] = src[0];
    dst[1] = src[1];
  }
}

/* Row of pixel (iy, ix) of a 1×1 window without padding, its C channels, straight into slot r of the interleaved rows. */
static void gather_pointwise(const flexq_window *w, const int8_t *input, int32_t iy, int32_t ix, int32_t r, int16_t *rows, int32_t depth8) {
  const int32_t plane_size = w->in_h * w->in_w, in_c = w->in_c;
  const int8_t *src = input + iy * w->in_w + ix;
  int16_t *dst = rows + flexq_interleaved_at(r, 0);
  int32_t c = 0;
  for (; c + 4 <= in_c; c += 4, src += 4 * plane_size, dst += 8) {
    dst[0] = src[0];
    dst[1] = src[plane_size];
    dst[2] = src[2 * plane_size];
    dst[3] = src[3 * plane_size];
  }
  for (int32_t tail = c; tail < depth8; tail++) rows[flexq_interleaved_at(r, tail)] = tail < in_c ? src[(tail - c) * plane_size] : 0;
}

void flexq_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const int32_t depth8 = depth8_of(w);
  const int32_t pixels = w->out_h * w->out_w;
  const int pointwise = w->kernel_h == 1 && w->kernel_w == 1 && w->pad_top == 0 && w->pad_left == 0;
  const int16_t *weights = (const int16_t *)(const void *)p->weights;
  int16_t *window_row = scratch + 2 * depth8;
  const int requant_path = flexq_requant_path_of(&p->requant, w->out_c);
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = px + 1 < pixels ? 2 : 1;
    for (int32_t r = 0; r < rows; r++) {
      const int32_t oy = (px + r) / w->out_w, ox = (px + r) % w->out_w;
      if (pointwise) {
        gather_pointwise(w, input, oy * w->stride_h, ox * w->stride_w, r, scratch, depth8);
      } else {
        gather_window(w, (int16_t)p->pad_value, input, oy, ox, window_row, depth8);
        interleave(window_row, r, depth8, scratch);
      }
    }
    flexq_gemm_rows_dsp(scratch, rows, weights, depth8, w->out_c, p->bias, &p->requant, requant_path, output + px, pixels, 1);
  }
}
