/* SPDX-License-Identifier: Apache-2.0 */
/* Depthwise conv (groups = C, dilation_w = 1), Cortex-M DSP extension or Helium (MVE). Per input channel, its plane
 * goes once into an int16 buffer bordered with pad_value (the input's zero point, which the folded bias turns into 0).
 * DSP: each output is then a sum over kernel rows of SMLADs on pairs of neighbouring taps, into int32 accumulators,
 * requantized in a second pass. MVE: four outputs at a time, each tap one halfword gather of the four outputs' inputs
 * (offsets into the plane computed once per call) and one VMLA by the tap's weight, then a vector requantization.
 * Bit-exact to flexq's reference Conv kernel. Weights: int16 [M][kh][kw2], kw2 = round_up(kw, 2), zero tail, read as
 * (w[kx], w[kx+1]) pairs. Scratch: the padded plane, padded_h × padded_w int16 (one spare column for the last pair),
 * rounded up to 4 bytes, then out_h × out_w int32 (DSP: a plane's accumulators; MVE: each output's offset in the plane). */
#include "flexq_kernels.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

/* The Helium (MVE) path: its four-lane requantization is the double-rounding build's (the single-rounding and fp32
 * builds take the DSP path, which the M55 has too). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !FLEXQ_SINGLE_ROUNDING
#define FLEXQ_DEPTHWISE_MVE 1
#else
#define FLEXQ_DEPTHWISE_MVE 0
#endif

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

/* The part of the bordered plane that the input covers, the same for every channel: input rows [0, rows) at plane
 * rows pad_top + iy, input columns [0, columns) at plane columns pad_left + ix (the plane may end before the input). */
typedef struct {
  int32_t rows, columns;
} plane_inside;

static plane_inside inside_of(const flexq_window *w, plane_extent e) {
  plane_inside in;
  in.rows = e.height - w->pad_top < w->in_h ? e.height - w->pad_top : w->in_h;
  in.columns = e.width - w->pad_left < w->in_w ? e.width - w->pad_left : w->in_w;
  return in;
}

/* A channel's input into the plane's inside; the border (pad_value, filled once per call) is never written over. */
static void fill_inside(const flexq_window *w, const int8_t *src, plane_inside in, plane_extent e, int16_t *padded) {
  int16_t *dst = padded + w->pad_top * e.width + w->pad_left;
  for (int32_t iy = 0; iy < in.rows; iy++, src += w->in_w, dst += e.width)
    for (int32_t ix = 0; ix < in.columns; ix++) dst[ix] = src[ix];
}

#if FLEXQ_DEPTHWISE_MVE
#include <arm_mve.h>

/* Per output (row-major), the plane offset of its window's first tap; the 4-lane gathers read them by groups of four. */
static void window_offsets(const flexq_window *w, plane_extent e, int32_t *offsets) {
  for (int32_t oy = 0; oy < w->out_h; oy++)
    for (int32_t ox = 0; ox < w->out_w; ox++) *offsets++ = oy * w->stride_h * e.width + ox * w->stride_w;
}

/* flexq_requantize_channel on four lanes: VQRDMULH is the doubling high mul (the multiplier is never INT32_MIN, so it
 * never saturates); VRSHL by −e rounds ties up, and adding −1 to a negative x first makes them round away from zero as
 * RoundingDivideByPOT does (saturating: INT32_MIN − 1 and INT32_MIN round alike, as INT32_MIN + 2^(e−1) is no multiple
 * of 2^e). */
static inline int32x4_t requantize_lanes(const flexq_channel_constants *c, int32_t zero_point, int32_t min, int32_t max, int32x4_t acc) {
  int32x4_t x = vqrdmulhq_n_s32(vshlq_s32(acc, vdupq_n_s32(c->left_shift)), c->multiplier);
  if (c->right_shift > 0) x = vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), -c->right_shift);
  return vminq_s32(vmaxq_s32(vaddq_n_s32(x, zero_point), vdupq_n_s32(min)), vdupq_n_s32(max));
}

/* Sum of a 3×3 window's taps for four outputs: the window's rows through three bases, its columns through the offsets
 * plus 0, 1, 2; the nine weights stay in registers. */
static inline int32x4_t window_3x3(const int16_t *r0, const int16_t *r1, const int16_t *r2, uint32x4_t at, const int32_t k[9], int32x4_t acc) {
  const uint32x4_t at1 = vaddq_n_u32(at, 1), at2 = vaddq_n_u32(at, 2);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r0, at), k[0]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r0, at1), k[1]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r0, at2), k[2]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r1, at), k[3]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r1, at1), k[4]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r1, at2), k[5]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r2, at), k[6]);
  acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r2, at1), k[7]);
  return vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(r2, at2), k[8]);
}

/* Channel m's outputs from its bordered plane, four at a time (the last group predicated). */
static void channel_outputs(const flexq_conv_dsp_params *p, const int16_t *padded, plane_extent e, const int32_t *offsets, const int16_t *weights,
                            int32_t m, int8_t *out) {
  const flexq_window *w = &p->window;
  const int32_t kw2 = (w->kernel_w + 1) & ~1, row_step = w->dilation_h * e.width, count = w->out_h * w->out_w;
  const flexq_channel_constants c = flexq_channel_constants_of(&p->requant, m);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max, bias = p->bias[m];
  if (w->kernel_h == 3 && w->kernel_w == 3) {
    const int32_t k[9] = {weights[0], weights[1], weights[2], weights[kw2], weights[kw2 + 1], weights[kw2 + 2],
                          weights[2 * kw2], weights[2 * kw2 + 1], weights[2 * kw2 + 2]};
    const int16_t *r1 = padded + row_step, *r2 = r1 + row_step;
    for (int32_t i = 0; i < count; i += 4) {
      const mve_pred16_t lanes = vctp32q((uint32_t)(count - i));
      const uint32x4_t at = vreinterpretq_u32_s32(vldrwq_z_s32(offsets + i, lanes));
      const int32x4_t acc = window_3x3(padded, r1, r2, at, k, vdupq_n_s32(bias));
      vstrbq_p_s32(out + i, requantize_lanes(&c, zero_point, min, max, acc), lanes);
    }
    return;
  }
  for (int32_t i = 0; i < count; i += 4) {
    const mve_pred16_t lanes = vctp32q((uint32_t)(count - i));
    const uint32x4_t at = vreinterpretq_u32_s32(vldrwq_z_s32(offsets + i, lanes));
    int32x4_t acc = vdupq_n_s32(bias);
    const int16_t *row = padded;
    for (int32_t ky = 0; ky < w->kernel_h; ky++, row += row_step)
      for (int32_t kx = 0; kx < w->kernel_w; kx++) acc = vmlaq_n_s32(acc, vldrhq_gather_shifted_offset_s32(row + kx, at), weights[ky * kw2 + kx]);
    vstrbq_p_s32(out + i, requantize_lanes(&c, zero_point, min, max, acc), lanes);
  }
}
#else
/* One output row of a 3×3 window: `count` outputs, `stride` int16 apart, from the window rows r0, r0 + row_step,
 * r0 + 2·row_step; six weight pairs. Its own function so that its loop holds every value in a register. */
static __attribute__((noinline)) void row_3x3(const int16_t *r0, int32_t row_step, int32_t stride, int32_t count, const int32_t k[6], int32_t bias,
                                               int32_t *acc) {
  const int32_t k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5];
  const int16_t *r1 = r0 + row_step, *r2 = r1 + row_step;
  for (int32_t *end = acc + count; acc < end; acc++, r0 += stride, r1 += stride, r2 += stride) {
    int32_t a = flexq_smlad(k0, (int32_t)flexq_read_u32(r0), bias);
    a = flexq_smlad(k1, (int32_t)flexq_read_u32(r0 + 2), a);
    a = flexq_smlad(k2, (int32_t)flexq_read_u32(r1), a);
    a = flexq_smlad(k3, (int32_t)flexq_read_u32(r1 + 2), a);
    a = flexq_smlad(k4, (int32_t)flexq_read_u32(r2), a);
    *acc = flexq_smlad(k5, (int32_t)flexq_read_u32(r2 + 2), a);
  }
}

/* Accumulators of one output channel with a 3×3 window, row by row. */
static void accumulate_3x3(const flexq_window *w, const int16_t *padded, plane_extent e, const int16_t *weights, int32_t bias, int32_t *acc) {
  int32_t k[6];
  for (int32_t i = 0; i < 6; i++) k[i] = (int32_t)flexq_read_u32(weights + 2 * i);
  for (int32_t oy = 0; oy < w->out_h; oy++, acc += w->out_w)
    row_3x3(padded + oy * w->stride_h * e.width, w->dilation_h * e.width, w->stride_w, w->out_w, k, bias, acc);
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

static inline __attribute__((always_inline)) void requantize_as(const flexq_channel_constants *c, int path, const flexq_channel_requant *r,
                                                                 const int32_t *acc, int32_t count, int8_t *out) {
  const int32_t zero_point = r->zero_point, min = r->min, max = r->max;
  for (int32_t i = 0; i < count; i++) out[i] = flexq_requantize_as(c, path, zero_point, min, max, acc[i]);
}

/* The plane's accumulators to int8 in a second pass: the MAC loop keeps its weights in registers, this one its
 * requantization constants (one pass holding both spills to the stack); a channel with a right shift (nearly all)
 * through the one-multiply path alone. */
static void requantize_plane(const flexq_channel_requant *r, int32_t m, const int32_t *acc, int32_t count, int8_t *out) {
  const flexq_channel_constants c = flexq_channel_constants_of(r, m);
  const int path = flexq_channel_path_of(r, m);
  if (path == FLEXQ_REQUANT_RIGHT_SHIFT_INT8) requantize_as(&c, FLEXQ_REQUANT_RIGHT_SHIFT_INT8, r, acc, count, out);
  else if (path == FLEXQ_REQUANT_RIGHT_SHIFT) requantize_as(&c, FLEXQ_REQUANT_RIGHT_SHIFT, r, acc, count, out);
  else requantize_as(&c, FLEXQ_REQUANT_ANY, r, acc, count, out);
}

/* Channel m's outputs from its bordered plane: accumulators, then requantization. */
static void channel_outputs(const flexq_conv_dsp_params *p, const int16_t *padded, plane_extent e, int32_t *acc, const int16_t *weights, int32_t m,
                            int8_t *out) {
  const flexq_window *w = &p->window;
  if (w->kernel_h == 3 && w->kernel_w == 3) accumulate_3x3(w, padded, e, weights, p->bias[m], acc);
  else accumulate_any(w, padded, e, weights, p->bias[m], acc);
  requantize_plane(&p->requant, m, acc, w->out_h * w->out_w, out);
}
#endif

void flexq_depthwise_conv_s8_dsp(const flexq_conv_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const flexq_window *w = &p->window;
  const plane_extent e = padded_extent(w);
  const int32_t multiplier = w->out_c / w->in_c;
  const int32_t kw2 = (w->kernel_w + 1) & ~1;
  const int32_t out_size = w->out_h * w->out_w;
  const int16_t *weights = (const int16_t *)(const void *)p->weights;
  int32_t *per_output = (int32_t *)(void *)(scratch + ((e.height * e.width + 1) & ~1));
  const plane_inside inside = inside_of(w, e);
  for (int32_t i = 0; i < e.height * e.width; i++) scratch[i] = (int16_t)p->pad_value;
#if FLEXQ_DEPTHWISE_MVE
  window_offsets(w, e, per_output);
#endif
  for (int32_t c = 0; c < w->in_c; c++) {
    fill_inside(w, input + c * w->in_h * w->in_w, inside, e, scratch);
    for (int32_t j = 0; j < multiplier; j++) {
      const int32_t m = c * multiplier + j;
      channel_outputs(p, scratch, e, per_output, weights + m * w->kernel_h * kw2, m, output + m * out_size);
    }
  }
}
