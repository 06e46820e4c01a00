/* SPDX-License-Identifier: Apache-2.0 */
/* Dot products of two interleaved int16 input rows with every weight row, two output channels at a time, eight taps
 * per step (layouts in gemm_dsp.h; the pair loop is flexq_dsp.h's flexq_mac_2x2, or flexq_mac_2x2_int8_weights for
 * int8 weights: SMLAD, or Helium/MVE on a core that has it). */
#include "gemm_dsp.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

/* The output grid's zero point and clamp, held in registers: read through the requant pointer after each int8 store,
 * which may alias anything, they would be loaded again. */
typedef struct {
  int32_t zero_point, min, max;
} output_grid;

/* The channel of constants c: its sums of rows 0 and 1 to int8 at o[0] and o[row_stride]. */
static inline __attribute__((always_inline)) void store_channel(const flexq_channel_constants *c, int path, output_grid g, int32_t a0, int32_t a1, int32_t rows, int8_t *o,
                                 int32_t row_stride) {
  const int8_t y0 = flexq_requantize_as(c, path, g.zero_point, g.min, g.max, a0);
  const int8_t y1 = flexq_requantize_as(c, path, g.zero_point, g.min, g.max, a1);
  o[0] = y0;
  if (rows > 1) o[row_stride] = y1;
}

static inline __attribute__((always_inline)) flexq_channel_constants constants_of(const flexq_channel_requant *r, int32_t m, int path) {
  return path == FLEXQ_REQUANT_ANY ? flexq_channel_constants_of(r, m) : flexq_right_shift_constants_of(r, m);
}

/* The GEMM; path (FLEXQ_REQUANT_*) and int8_weights are constants at each call, so each gets its own code. */
static inline __attribute__((always_inline)) void gemm_rows(const int16_t *rows_interleaved, int32_t rows, const void *weights, int int8_weights, int32_t depth8, int32_t units,
                             const int32_t *bias, const flexq_channel_requant *requant, int path, int8_t *out, int32_t channel_stride, int32_t row_stride) {
  const output_grid g = {requant->zero_point, requant->min, requant->max};
  const int16_t *w = weights;
  const int8_t *w8 = weights;
  int32_t m = 0;
  for (; m + 1 < units; m += 2) {
    int32_t acc[4] = {bias[m], bias[m], bias[m + 1], bias[m + 1]};
    if (int8_weights) w8 = flexq_mac_2x2_int8_weights(w8, rows_interleaved, depth8, acc);
    else w = flexq_mac_2x2(w, rows_interleaved, depth8, acc);
    const flexq_channel_constants c0 = constants_of(requant, m, path), c1 = constants_of(requant, m + 1, path);
    store_channel(&c0, path, g, acc[0], acc[1], rows, out + m * channel_stride, row_stride);
    store_channel(&c1, path, g, acc[2], acc[3], rows, out + (m + 1) * channel_stride, row_stride);
  }
  if (m < units) {
    /* the last odd channel: four taps (two words) of its weights per group */
    int32_t a0 = bias[m], a1 = bias[m];
    const int16_t *x = rows_interleaved;
    for (int32_t k = 0; k < depth8; k += 4, x += 8) {
      int32_t w_lo, w_hi;
      if (int8_weights) {
        flexq_unpack_weights(flexq_read_u32(w8), &w_lo, &w_hi);
        w8 += 4;
      } else {
        w_lo = (int32_t)flexq_read_u32(w);
        w_hi = (int32_t)flexq_read_u32(w + 2);
        w += 4;
      }
      a0 = flexq_smlad(w_hi, (int32_t)flexq_read_u32(x + 2), flexq_smlad(w_lo, (int32_t)flexq_read_u32(x), a0));
      a1 = flexq_smlad(w_hi, (int32_t)flexq_read_u32(x + 6), flexq_smlad(w_lo, (int32_t)flexq_read_u32(x + 4), a1));
    }
    const flexq_channel_constants c = constants_of(requant, m, path);
    store_channel(&c, path, g, a0, a1, rows, out + m * channel_stride, row_stride);
  }
}

/* gemm_rows of one requantization path, for int16 or int8 weights. */
static inline __attribute__((always_inline)) void gemm_rows_of_path(const int16_t *rows_interleaved, int32_t rows, const void *weights, int32_t int8_weights, int32_t depth8,
                                     int32_t units, const int32_t *bias, const flexq_channel_requant *requant, int path, int8_t *out,
                                     int32_t channel_stride, int32_t row_stride) {
  if (int8_weights) gemm_rows(rows_interleaved, rows, weights, 1, depth8, units, bias, requant, path, out, channel_stride, row_stride);
  else gemm_rows(rows_interleaved, rows, weights, 0, depth8, units, bias, requant, path, out, channel_stride, row_stride);
}

void flexq_gemm_rows_dsp(const int16_t *rows_interleaved, int32_t rows, const void *weights, int32_t int8_weights, int32_t depth8, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int requant_path, int8_t *out, int32_t channel_stride,
                         int32_t row_stride) {
  if (requant_path == FLEXQ_REQUANT_RIGHT_SHIFT_INT8)
    gemm_rows_of_path(rows_interleaved, rows, weights, int8_weights, depth8, units, bias, requant, FLEXQ_REQUANT_RIGHT_SHIFT_INT8, out, channel_stride, row_stride);
  else if (requant_path == FLEXQ_REQUANT_RIGHT_SHIFT)
    gemm_rows_of_path(rows_interleaved, rows, weights, int8_weights, depth8, units, bias, requant, FLEXQ_REQUANT_RIGHT_SHIFT, out, channel_stride, row_stride);
  else gemm_rows_of_path(rows_interleaved, rows, weights, int8_weights, depth8, units, bias, requant, FLEXQ_REQUANT_ANY, out, channel_stride, row_stride);
}
