/* SPDX-License-Identifier: Apache-2.0 */
/* Conv (one group), Cortex-M DSP extension: im2col of two output pixels at a time, each pixel's window gathered as
 * int16 raw input values straight into its slots of the two rows interleaved as gemm_dsp.h says (taps in the padding
 * hold pad_value, the input's zero point, which the folded bias turns into 0), then the dual-MAC GEMM of gemm_dsp.c.
 * Bit-exact to flexq's reference Conv kernel: the same sum of the same products, in another order (int32 addition).
 * Tap order of a window (the code generator packs the weights in the same order), so that each group of four taps
 * the GEMM reads is gathered straight into its slots: with C a multiple of 4 or a 1×1 window, [ky][kx][c] (a group:
 * one window position × four channels, read from four channel planes); otherwise [c][ky][round_up(kw, 4)] (a group:
 * four taps of one window row; those past kw weigh 0). Weights: depth8_of taps per output channel, zero past the
 * window's, packed as gemm_dsp.h says (int16, or int8 where p->int8_weights). Scratch: the two interleaved rows (2·depth8 int16). */
#include "flexq_kernels.h"
#include "flexq_requant.h"
#include "gemm_dsp.h"

static int is_1x1(const flexq_window *w) { return w->kernel_h == 1 && w->kernel_w == 1; }

/* Taps per output channel in the GEMM: C·kh·kw (C a multiple of 4, or a 1×1 window) or C·kh·round_up(kw, 4), rounded
 * up to 8. */
static int32_t depth8_of(const flexq_window *w) {
  const int32_t row_taps = (w->in_c & 3) == 0 || is_1x1(w) ? w->kernel_w : (w->kernel_w + 3) & ~3;
  return (w->in_c * w->kernel_h * row_taps + 7) & ~7;
}

/* 4·groups channels of one input position (`src`, planes `plane_size` apart) into consecutive groups of one
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

/* Row of pixel (oy, ox), C a multiple of 4: taps [ky][kx][c], a position outside the input all pad, then the zero
 * group up to depth8. */
static void gather_window_grouped(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *dst, int32_t depth8) {
  const int32_t in_h = w->in_h, in_w = w->in_w, plane_size = in_h * in_w, groups = w->in_c / 4;
  const int32_t y0 = oy * w->stride_h - w->pad_top, x0 = ox * w->stride_w - w->pad_left;
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

/* Row of pixel (oy, ox), C not a multiple of 4 (the 1- and 3-channel stems): taps [c][ky][kx], each window row in
 * whole groups of four (kernel_w rounded up; the extra taps, of zero weight, hold 0), a window row outside the input
 * all pad, then the zero groups up to depth8. */
static void gather_window_rows(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *dst, int32_t depth8) {
  const int32_t in_h = w->in_h, in_w = w->in_w, kernel_w = w->kernel_w, dilation_w = w->dilation_w;
  const int32_t row_groups = (kernel_w + 3) / 4;
  const int32_t y0 = oy * w->stride_h - w->pad_top, x0 = ox * w->stride_w - w->pad_left;
  const int dense = x0 >= 0 && x0 + (kernel_w - 1) * dilation_w < in_w && dilation_w == 1;
  const int8_t *plane = input;
  for (int32_t c = 0; c < w->in_c; c++, plane += in_h * in_w) {
    for (int32_t ky = 0; ky < w->kernel_h; ky++, dst += 8 * row_groups) {
      const int32_t iy = y0 + ky * w->dilation_h;
      if (iy < 0 || iy >= in_h) {
        fill_groups(dst, row_groups, pad);
        continue;
      }
      const int8_t *src = plane + iy * in_w + x0;
      if (dense && kernel_w == 3) { /* the common stems' rows, one group each */
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
        dst[3] = 0;
      } else if (dense && kernel_w == 4) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
        dst[3] = src[3];
      } else {
        int32_t kx = 0;
        for (; kx < kernel_w; kx++) {
          const int32_t ix = x0 + kx * dilation_w;
          dst[flexq_interleaved_at(0, kx)] = ix < 0 || ix >= in_w ? pad : src[kx * dilation_w];
        }
        for (; kx < 4 * row_groups; kx++) dst[flexq_interleaved_at(0, kx)] = 0;
      }
    }
  }
  fill_groups(dst, (depth8 - w->in_c * w->kernel_h * 4 * row_groups) / 4, 0);
}

/* The C channels of input position `src` (channel 0's plane), then zeros up to depth8. */
static inline void copy_channels(const flexq_window *w, const int8_t *src, int16_t *dst, int32_t depth8) {
  const int32_t plane_size = w->in_h * w->in_w, in_c = w->in_c, c = in_c & ~3;
  copy_channel_groups(src, plane_size, c / 4, dst);
  src += c * plane_size;
  for (int32_t tail = c; tail < depth8; tail++) dst[flexq_interleaved_at(0, tail)] = tail < in_c ? src[(tail - c) * plane_size] : 0;
}

/* Row of pixel (oy, ox) of a 1×1 window whose positions all lie inside the input, pad_top = pad_left = 0. */
static void gather_pointwise(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *dst, int32_t depth8) {
  (void)pad;
  copy_channels(w, input + oy * w->stride_h * w->in_w + ox * w->stride_w, dst, depth8);
}

/* Row of pixel (oy, ox) of a 1×1 window that may lie in the padding: there, all pad. */
static void gather_pointwise_padded(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *dst, int32_t depth8) {
  const int32_t iy = oy * w->stride_h - w->pad_top, ix = ox * w->stride_w - w->pad_left;
  if (iy >= 0 && iy < w->in_h && ix >= 0 && ix < w->in_w) {
    copy_channels(w, input + iy * w->in_w + ix, dst, depth8);
  } else {
    for (int32_t k = 0; k < depth8; k++) dst[flexq_interleaved_at(0, k)] = k < w->in_c ? pad : 0;
  }
}

/* Gathers the window of output pixel (oy, ox) into the interleaved slots of one row, from dst (its tap 0). */
typedef void (*window_gather)(const flexq_window *w, int16_t pad, const int8_t *input, int32_t oy, int32_t ox, int16_t *dst, int32_t depth8);

/* The conv's gather, chosen once per call (each one compiled alone: inlined together they spill in the pixel loop). */
static window_gather gather_of(const flexq_window *w) {
  if (is_1x1(w)) {
    const int inside = w->pad_top == 0 && w->pad_left == 0 && (w->out_h - 1) * w->stride_h < w->in_h && (w->out_w - 1) * w->stride_w < w->in_w;
    return inside ? gather_pointwise : gather_pointwise_padded;
  }
  return (w->in_c & 3) == 0 ? gather_window_grouped : gather_window_rows;
}

/* The im2col rows of output pixels px and, if it exists, px + 1, interleaved into scratch; returns how many (1 or 2). */
static int32_t gather_pair(const flexq_conv_dsp_params *p, window_gather gather, const int8_t *input, int32_t px, int32_t pixels, int16_t *scratch, int32_t depth8) {
  const flexq_window *w = &p->window;
  const int32_t rows = px + 1 < pixels ? 2 : 1;
  for (int32_t r = 0; r < rows; r++)
    gather(w, (int16_t)p->pad_value, input, (px + r) / w->out_w, (px + r) % w->out_w, scratch + flexq_interleaved_at(r, 0), depth8);
  return rows;
}

void flexq_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const int32_t depth8 = depth8_of(w);
  const int32_t pixels = w->out_h * w->out_w;
  const int requant_path = flexq_requant_path_of(&p->requant, w->out_c);
  const window_gather gather = gather_of(w);
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = gather_pair(p, gather, input, px, pixels, scratch, depth8);
    flexq_gemm_rows_dsp(scratch, rows, p->weights, p->int8_weights, depth8, w->out_c, p->bias, &p->requant, requant_path, output + px, pixels, 1);
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
  const flexq_fixed_constants c = flexq_constants_of(p->requant.multiplier, p->requant.shift);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max;
  const int8_t *weights = p->conv.weights;
  const int32_t weight_bytes = p->conv.int8_weights ? 1 : 2;
  const window_gather gather = gather_of(w);
  /* one path for the whole layer: a block's channels take it as well as all of them do */
  const int requant_path = flexq_requant_path_of(&p->conv.requant, w->out_c);
  int8_t conv[2 * FLEXQ_CONV_ADD_CHANNELS];
  for (int32_t px = 0; px < pixels; px += 2) {
    const int32_t rows = gather_pair(&p->conv, gather, input, px, pixels, scratch, depth8);
    for (int32_t m0 = 0; m0 < w->out_c; m0 += FLEXQ_CONV_ADD_CHANNELS) {
      const int32_t units = w->out_c - m0 < FLEXQ_CONV_ADD_CHANNELS ? w->out_c - m0 : FLEXQ_CONV_ADD_CHANNELS;
      const flexq_channel_requant requant = flexq_channels_from(&p->conv.requant, m0);
      flexq_gemm_rows_dsp(scratch, rows, weights + m0 * depth8 * weight_bytes, p->conv.int8_weights, depth8, units, p->conv.bias + m0, &requant, requant_path, conv, 2, 1);
      for (int32_t m = 0; m < units; m++) {
        for (int32_t r = 0; r < rows; r++) {
          const int32_t at = (m0 + m) * pixels + px + r;
          output[at] = flexq_requantize_fixed(&c, zero_point, min, max, conv_table[conv[2 * m + r]] + residual_table[residual[at]]);
        }
      }
    }
  }
}
