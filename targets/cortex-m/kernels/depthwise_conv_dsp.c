/* SPDX-License-Identifier: Apache-2.0 */
/* Depthwise conv (groups = C, dilation_w = 1), Cortex-M DSP extension. Per input channel, its plane goes once into an
 * int16 buffer bordered with pad_value (the input's zero point, which the folded bias turns into 0); each output is then a sum over kernel rows of SMLADs on pairs of
 * neighbouring taps. Bit-exact to flexq's reference Conv kernel. Weights: int16 [M][kh][kw2], kw2 = round_up(kw, 2), zero tail, read as
 * (w[kx], w[kx+1]) pairs. Scratch: the padded plane, padded_h × padded_w int16 (one spare column for the last pair),
 * rounded up to 4 bytes, then out_h × out_w int32 accumulators. */
#include "flexq_kernels.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

typedef struct {
  int32_t height, width;
} plane_extent;

static plane_extent padded_extent(const flexq_window *w) {
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  plane_extent e;
  e.height = (w->out_h - 1) * w->stride_h + (w->kernel_h - 1) * w->dilation_h + 1;
  e.width = (w->out_w - 1) * w->stride_w + kw2;
  return e;
}

/* Each row of the bordered plane: pad columns, the input row's columns inside the plane, pad columns. */
static void fill_plane(const flexq_window *w, const int8_t *plane, int16_t pad, plane_extent e, int16_t *padded) {
  const int32_t left = w->pad_left < e.width ? w->pad_left : e.width;
  const int32_t inside_end = w->pad_left + w->in_w < e.width ? w->pad_left + w->in_w : e.width;
  for (int32_t r = 0; r < e.height; r++) {
    const int32_t iy = r - w->pad_top;
    int16_t *dst = padded + r * e.width;
    if (iy < 0 || iy >= w->in_h) {
      for (int32_t q = 0; q < e.width; q++) dst[q] = pad;
      continue;
    }
    const int8_t *src = plane + iy * w->in_w;
    int32_t q = 0;
    for (; q < left; q++) dst[q] = pad;
    for (; q < inside_end; q++) dst[q] = src[q - w->pad_left];
    for (; q < e.width; q++) dst[q] = pad;
  }
}

/* Accumulators of one output channel with a 3×3 window: its six weight pairs stay in registers. */
static void accumulate_3x3(const flexq_window *w, const int16_t *padded, plane_extent e, const int16_t *weights, int32_t bias, int32_t *acc) {
  const int32_t row_step = w->dilation_h * e.width, stride_w = w->stride_w, out_w = w->out_w;
  const int32_t w00 = (int32_t)flexq_read_u32(weights), w01 = (int32_t)flexq_read_u32(weights + 2);
  const int32_t w10 = (int32_t)flexq_read_u32(weights + 4), w11 = (int32_t)flexq_read_u32(weights + 6);
  const int32_t w20 = (int32_t)flexq_read_u32(weights + 8), w21 = (int32_t)flexq_read_u32(weights + 10);
  for (int32_t oy = 0; oy < w->out_h; oy++) {
    const int16_t *r0 = padded + oy * w->stride_h * e.width;
    for (int32_t ox = 0; ox < out_w; ox++, r0 += stride_w) {
      const int16_t *r1 = r0 + row_step, *r2 = r1 + row_step;
      int32_t a = bias;
      a = flexq_smlad(w00, (int32_t)flexq_read_u32(r0), a);
      a = flexq_smlad(w01, (int32_t)flexq_read_u32(r0 + 2), a);
      a = flexq_smlad(w10, (int32_t)flexq_read_u32(r1), a);
      a = flexq_smlad(w11, (int32_t)flexq_read_u32(r1 + 2), a);
      a = flexq_smlad(w20, (int32_t)flexq_read_u32(r2), a);
      a = flexq_smlad(w21, (int32_t)flexq_read_u32(r2 + 2), a);
      *acc++ = a;
    }
  }
}

static void accumulate_any(const flexq_window *w, const int16_t *padded, plane_extent e, const int16_t *weights, int32_t bias, int32_t *acc) {
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  for (int32_t oy = 0; oy < w->out_h; oy++) {
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      int32_t a = bias;
      for (int32_t ky = 0; ky < w->kernel_h; ky++) {
        const int16_t *x = padded + (oy * w->stride_h + ky * w->dilation_h) * e.width + ox * w->stride_w;
        const int16_t *k = weights + ky * kw2;
        for (int32_t kx = 0; kx < kw2; kx += 2) a = flexq_smlad((int32_t)flexq_read_u32(k + kx), (int32_t)flexq_read_u32(x + kx), a);
      }
      *acc++ = a;
    }
  }
}

/* The plane's accumulators to int8 in a second pass: the MAC loop keeps its weights in registers, this one its
 * requantization constants (one pass holding both spills to the stack). */
static void requantize_plane(const flexq_channel_requant *r, int32_t m, const int32_t *acc, int32_t count, int8_t *out) {
  const flexq_channel_constants c = flexq_channel_constants_of(r, m);
  const int32_t zero_point = r->zero_point, min = r->min, max = r->max;
  for (int32_t i = 0; i < count; i++) out[i] = flexq_requantize_channel(&c, zero_point, min, max, acc[i]);
}

void flexq_depthwise_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const plane_extent e = padded_extent(w);
  const int32_t multiplier = w->out_c / w->in_c;
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  const int32_t out_size = w->out_h * w->out_w;
  const int16_t *weights = (const int16_t *)(const void *)p->weights;
  int32_t *acc = (int32_t *)(void *)(scratch + ((e.height * e.width + 1) & ~1));
  const int is_3x3 = w->kernel_h == 3 && w->kernel_w == 3;
  for (int32_t c = 0; c < w->in_c; c++) {
    fill_plane(w, input + c * w->in_h * w->in_w, (int16_t)p->pad_value, e, scratch);
    for (int32_t j = 0; j < multiplier; j++) {
      const int32_t m = c * multiplier + j;
      const int16_t *k = weights + m * w->kernel_h * kw2;
      if (is_3x3) accumulate_3x3(w, scratch, e, k, p->bias[m], acc);
      else accumulate_any(w, scratch, e, k, p->bias[m], acc);
      requantize_plane(&p->requant, m, acc, out_size, output + m * out_size);
    }
  }
}
