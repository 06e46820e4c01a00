/* SPDX-License-Identifier: Apache-2.0 */
/* Depthwise conv (groups = C, dilation_w = 1), Cortex-M DSP extension. Per input channel, its plane goes once into an
 * int16 buffer bordered with pad_value (the input's zero point, which the folded bias turns into 0); each output is then a sum over kernel rows of SMLADs on pairs of
 * neighbouring taps. Bit-exact to flexq's reference Conv kernel. Weights: int16 [M][kh][kw2], kw2 = round_up(kw, 2), zero tail, read as
 * (w[kx], w[kx+1]) pairs. Scratch: the padded plane, padded_h × padded_w int16 (one spare column for the last pair). */
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

static void fill_plane(const flexq_window *w, const int8_t *plane, int16_t pad, plane_extent e, int16_t *padded) {
  for (int32_t r = 0; r < e.height; r++) {
    const int32_t iy = r - w->pad_top;
    int16_t *dst = padded + r * e.width;
    if (iy < 0 || iy >= w->in_h) {
      for (int32_t q = 0; q < e.width; q++) dst[q] = pad;
      continue;
    }
    const int8_t *src = plane + iy * w->in_w;
    for (int32_t q = 0; q < e.width; q++) {
      const int32_t ix = q - w->pad_left;
      dst[q] = (ix < 0 || ix >= w->in_w) ? pad : src[ix];
    }
  }
}

/* One output channel with a 3×3 window: its six weight pairs stay in registers. */
static void channel_3x3(const flexq_conv_dsp_params *p, int32_t m, const int16_t *padded, plane_extent e, const int16_t *weights, int8_t *out) {
  const flexq_window *w = &p->window;
  const flexq_channel_constants c = flexq_channel_constants_of(&p->requant, m);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max, bias = p->bias[m];
  const int32_t row_step = w->dilation_h * e.width;
  const int32_t w00 = (int32_t)flexq_read_u32(weights), w01 = (int32_t)flexq_read_u32(weights + 2);
  const int32_t w10 = (int32_t)flexq_read_u32(weights + 4), w11 = (int32_t)flexq_read_u32(weights + 6);
  const int32_t w20 = (int32_t)flexq_read_u32(weights + 8), w21 = (int32_t)flexq_read_u32(weights + 10);
  for (int32_t oy = 0; oy < w->out_h; oy++) {
    const int16_t *r0 = padded + oy * w->stride_h * e.width;
    for (int32_t ox = 0; ox < w->out_w; ox++, r0 += w->stride_w) {
      const int16_t *r1 = r0 + row_step, *r2 = r1 + row_step;
      int32_t acc = bias;
      acc = flexq_smlad(w00, (int32_t)flexq_read_u32(r0), acc);
      acc = flexq_smlad(w01, (int32_t)flexq_read_u32(r0 + 2), acc);
      acc = flexq_smlad(w10, (int32_t)flexq_read_u32(r1), acc);
      acc = flexq_smlad(w11, (int32_t)flexq_read_u32(r1 + 2), acc);
      acc = flexq_smlad(w20, (int32_t)flexq_read_u32(r2), acc);
      acc = flexq_smlad(w21, (int32_t)flexq_read_u32(r2 + 2), acc);
      *out++ = flexq_requantize_channel(&c, zero_point, min, max, acc);
    }
  }
}

static void channel_any(const flexq_conv_dsp_params *p, int32_t m, const int16_t *padded, plane_extent e, const int16_t *weights, int8_t *out) {
  const flexq_window *w = &p->window;
  const flexq_channel_constants c = flexq_channel_constants_of(&p->requant, m);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max, bias = p->bias[m];
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  for (int32_t oy = 0; oy < w->out_h; oy++) {
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      int32_t acc = bias;
      for (int32_t ky = 0; ky < w->kernel_h; ky++) {
        const int16_t *x = padded + (oy * w->stride_h + ky * w->dilation_h) * e.width + ox * w->stride_w;
        const int16_t *k = weights + ky * kw2;
        for (int32_t kx = 0; kx < kw2; kx += 2) acc = flexq_smlad((int32_t)flexq_read_u32(k + kx), (int32_t)flexq_read_u32(x + kx), acc);
      }
      *out++ = flexq_requantize_channel(&c, zero_point, min, max, acc);
    }
  }
}

void flexq_depthwise_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const plane_extent e = padded_extent(w);
  const int32_t multiplier = w->out_c / w->in_c;
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  const int16_t *weights = (const int16_t *)(const void *)p->weights;
  const int is_3x3 = w->kernel_h == 3 && w->kernel_w == 3;
  for (int32_t c = 0; c < w->in_c; c++) {
    fill_plane(w, input + c * w->in_h * w->in_w, (int16_t)p->pad_value, e, scratch);
    for (int32_t j = 0; j < multiplier; j++) {
      const int32_t m = c * multiplier + j;
      const int16_t *k = weights + m * w->kernel_h * kw2;
      int8_t *out = output + m * w->out_h * w->out_w;
      if (is_3x3) channel_3x3(p, m, scratch, e, k, out);
      else channel_any(p, m, scratch, e, k, out);
    }
  }
}
