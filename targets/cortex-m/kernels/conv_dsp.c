/* SPDX-License-Identifier: Apache-2.0 */
/* Conv (one group), Cortex-M DSP extension: im2col of two output pixels at a time, each pixel's window gathered as
 * int16 raw input values straight into its slots of the two rows interleaved as gemm_dsp.h says (taps in the padding
 * hold pad_value, the input's zero point, which the folded bias turns into 0), then the dual-MAC GEMM of gemm_dsp.c.
 * Bit-exact to flexq's reference Conv kernel: the same sum of the same products, in another order (int32 addition).
 * Tap order of a window (the weights are packed in the same order, lower.ts): with C a multiple of 4, [ky][kx][c], so
 * that each group of four taps the GEMM reads is one window position × four consecutive channels; otherwise [c][ky][kx]
 * (ONNX's), tap by tap. Weights: depth8 = round_up(C·kh·kw, 8) taps per channel, zero past C·kh·kw, packed as
 * gemm_dsp.h says. Scratch: the two interleaved rows (2·depth8 int16). */
#include "flexq_kernels.h"
#include "flexq_requant.h"
#include "gemm_dsp.h"

static int32_t depth8_of(const flexq_window *w) { return (w->in_c * w->kernel_h * w->kernel_w + 7) & ~7; }

/* Channels c..c+4·groups of one input position (`src`, planes `plane_size` apart) into consecutive groups of one
 * interleaved row (`dst`, a group's slots 8 halfwords apart); returns dst past them. */
static int16_t *copy_channel_groups(const int8_t *src, int32_t plane_size, int32_t groups, int16_t *dst) {
  for (int32_t g = 0; g < groups; g++, src += 4 * plane_size, dst += 8) {
    dst[0] = src[0];
    dst[1] = src[plane_size];
    dst[2] = src[2 * plane_size];
    dst[3] = src[3 * plane_size];
  }
  return dst;
}

static int16_t *fill_groups(int16_t *dst, int32_t groups, int16_t value) {
  for (int32_t g = 0; g < groups; g++, dst += 8) dst[0] = dst[1] = dst[2] = dst[3] = value;
  return dst;
}

/* Row of pixel (oy, ox), C a multiple of 4, into slot r of the interleaved rows: taps [ky][kx][c], a position outside
 * the input all pad, then the zero group up to depth8. */
static void gather_window_grouped(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int32_t r, int16_t *rows, int32_t depth8) {
  const int32_t in_h = w->in_h, in_w = w->in_w, plane_size = in_h * in_w, groups = w->in_c / 4;
  const int32_t y0 = oy * w->stride_h - w->pad_top, x0 = ox * w->stride_w - w->pad_left;
  int16_t *dst = rows + flexq_interleaved_at(r, 0);
  for (int32_t ky = 0; ky < w->kernel_h; ky++) {
    const int32_t iy = y0 + ky * w->dilation_h;
    for (int32_t kx = 0; kx < w->kernel_w; kx++) {
      const int32_t ix = x0 + kx * w->dilation_w;
      dst = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w ? copy_channel_groups(input + iy * in_w + ix, plane_size, groups, dst)
                                                         : fill_groups(dst, groups, pad);
    }
  }
  fill_groups(dst, (depth8 - groups * 4 * w->kernel_h * w->kernel_w) / 4, 0);
}

/* Where the next tap of one interleaved row goes: four consecutive slots, then past the other row's four. */
typedef struct {
  int16_t *at;
  int32_t left;
} tap_cursor;

static inline void put_tap(tap_cursor *t, int16_t value) {
  *t->at++ = value;
  if (--t->left == 0) {
    t->at += 4;
    t->left = 4;
  }
}

/* Row of pixel (oy, ox), any C (the 1- and 3-channel stems), into slot r of the interleaved rows: taps [c][ky][kx],
 * one by one; rows of the window outside the input are found once per pixel. */
static void gather_window_taps(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int32_t r, int16_t *rows, int32_t depth8) {
  const int32_t in_h = w->in_h, in_w = w->in_w, kernel_h = w->kernel_h, kernel_w = w->kernel_w;
  const int32_t dilation_h = w->dilation_h, dilation_w = w->dilation_w;
  const int32_t y0 = oy * w->stride_h - w->pad_top;
  const int32_t x0 = ox * w->stride_w - w->pad_left;
  int32_t ky_begin = 0, ky_end = kernel_h;
  while (ky_begin < kernel_h && y0 + ky_begin * dilation_h < 0) ky_begin++;
  while (ky_end > ky_begin && y0 + (ky_end - 1) * dilation_h >= in_h) ky_end--;
  const int32_t row_step = dilation_h * in_w;
  tap_cursor t = {rows + flexq_interleaved_at(r, 0), 4};
  const int8_t *plane = input + (y0 + ky_begin * dilation_h) * in_w + x0;
  for (int32_t c = 0; c < w->in_c; c++, plane += in_h * in_w) {
    for (int32_t k = 0; k < ky_begin * kernel_w; k++) put_tap(&t, pad);
    const int8_t *src = plane;
    for (int32_t ky = ky_begin; ky < ky_end; ky++, src += row_step) {
      for (int32_t kx = 0; kx < kernel_w; kx++) {
        const int32_t ix = x0 + kx * dilation_w;
        put_tap(&t, (ix < 0 || ix >= in_w) ? pad : src[kx * dilation_w]);
      }
    }
    for (int32_t k = ky_end * kernel_w; k < kernel_h * kernel_w; k++) put_tap(&t, pad);
  }
  for (int32_t k = w->in_c * kernel_h * kernel_w; k < depth8; k++) put_tap(&t, 0);
}

/* Row of pixel (iy, ix) of a 1×1 window without padding, its C channels, straight into slot r of the interleaved rows. */
static void gather_pointwise(const flexq_window *w, const int8_t *input, int32_t iy, int32_t ix, int32_t r, int16_t *rows, int32_t depth8) {
  const int32_t plane_size = w->in_h * w->in_w, in_c = w->in_c;
  const int8_t *src = input + iy * w->in_w + ix;
  const int32_t c = in_c & ~3;
  copy_channel_groups(src, plane_size, c / 4, rows + flexq_interleaved_at(r, 0));
  src += c * plane_size;
  for (int32_t tail = c; tail < depth8; tail++) rows[flexq_interleaved_at(r, tail)] = tail < in_c ? src[(tail - c) * plane_size] : 0;
}

/* The im2col rows of output pixels px and, if it exists, px + 1, interleaved into scratch; returns how many (1 or 2). */
static int32_t gather_pair(const flexq_conv_dsp_params *p, const int8_t *input, int32_t px, int32_t pixels, int16_t *scratch, int32_t depth8) {
  const flexq_window *w = &p->window;
  const int pointwise = w->kernel_h == 1 && w->kernel_w == 1 && w->pad_top == 0 && w->pad_left == 0;
  const int grouped = (w->in_c & 3) == 0;
  const int32_t rows = px + 1 < pixels ? 2 : 1;
  for (int32_t r = 0; r < rows; r++) {
    const int32_t oy = (px + r) / w->out_w, ox = (px + r) % w->out_w;
    if (pointwise) {
      gather_pointwise(w, input, oy * w->stride_h, ox * w->stride_w, r, scratch, depth8);
    } else if (grouped) {
      gather_window_grouped(w, (int16_t)p->pad_value, input, oy, ox, r, scratch, depth8);
    } else {
      gather_window_taps(w, (int16_t)p->pad_value, input, oy, ox, r, scratch, depth8);
    }
  }
  return rows;
}

void flexq_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const int32_t depth8 = depth8_of(w);
  const int32_t pixels = w->out_h * w->out_w;
  const int16_t *weights = (const int16_t *)(const void *)p->weights;
  const int requant_path = flexq_requant_path_of(&p->requant, w->out_c);
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = gather_pair(p, input, px, pixels, scratch, depth8);
    flexq_gemm_rows_dsp(scratch, rows, weights, depth8, w->out_c, p->bias, &p->requant, requant_path, output + px, pixels, 1);
  }
}

/* Output channels per GEMM call of flexq_conv_add_s8_dsp, whose conv bytes wait in a stack buffer of 2 pixels × this
 * many; even, as the packed weights come in channel pairs. */
#define FLEXQ_CONV_ADD_CHANNELS 32

/* The conv and the table Add of its output with `residual`, per pixel pair and block of channels: the block's conv
 * bytes go to a small stack buffer, then each output element is the Add of its conv byte and the residual byte at its
 * own position: the bytes of the unfused conv and flexq_add_s8_table, with no whole conv output in memory. Reads each
 * residual element just before writing that element: output may be residual (not input). Scratch: the conv's. */
void flexq_conv_add_s8_dsp(const flexq_conv_add_dsp_params *p, const int8_t *input, const int8_t *residual, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->conv.window;
  const int32_t depth8 = depth8_of(w);
  const int32_t pixels = w->out_h * w->out_w;
  const int32_t *conv_table = p->conv_table + 128, *residual_table = p->residual_table + 128;
  const flexq_channel_constants c = flexq_constants_of(p->requant.multiplier, p->requant.shift);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max;
  const int16_t *weights = (const int16_t *)(const void *)p->conv.weights;
  int8_t conv[2 * FLEXQ_CONV_ADD_CHANNELS];
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = gather_pair(&p->conv, input, px, pixels, scratch, depth8);
    for (int32_t m0 = 0; m0 < w->out_c; m0 += FLEXQ_CONV_ADD_CHANNELS) {
      const int32_t units = w->out_c - m0 < FLEXQ_CONV_ADD_CHANNELS ? w->out_c - m0 : FLEXQ_CONV_ADD_CHANNELS;
      flexq_channel_requant requant = p->conv.requant;
      requant.multiplier += m0;
      requant.shift += m0;
      flexq_gemm_rows_dsp(scratch, rows, weights + m0 * depth8, depth8, units, p->conv.bias + m0, &requant,
                          flexq_requant_path_of(&requant, units), conv, 2, 1);
      for (int32_t m = 0; m < units; m++) {
        for (int32_t r = 0; r < rows; r++) {
          const int32_t at = (m0 + m) * pixels + px + r;
          output[at] = flexq_requantize_channel(&c, zero_point, min, max, conv_table[conv[2 * m + r]] + residual_table[residual[at]]);
        }
      }
    }
  }
}
