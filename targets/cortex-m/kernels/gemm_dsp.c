/* SPDX-License-Identifier: Apache-2.0 */
/* Dot products of two interleaved int16 input rows with every weight row, two output channels at a time, eight taps
 * per step (layouts in gemm_dsp.h; the pair loop is flexq_dsp.h's flexq_mac_2x2: SMLAD, or Helium/MVE on a core that
 * has it). */
#include "gemm_dsp.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

void flexq_gemm_rows_dsp(const int16_t *rows_interleaved, int32_t rows, const int16_t *weights, int32_t depth8, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int8_t *out, int32_t channel_stride,
                         int32_t row_stride) {
  const int32_t zero_point = requant->zero_point, min = requant->min, max = requant->max;
  const int16_t *w = weights;
  int32_t m = 0;
  for (; m + 1 < units; m += 2) {
    int32_t acc[4] = {bias[m], bias[m], bias[m + 1], bias[m + 1]};
    w = flexq_mac_2x2(w, rows_interleaved, depth8, acc);
    const flexq_channel_constants c0 = flexq_channel_constants_of(requant, m), c1 = flexq_channel_constants_of(requant, m + 1);
    int8_t *o = out + m * channel_stride;
    o[0] = flexq_requantize_channel(&c0, zero_point, min, max, acc[0]);
    o[channel_stride] = flexq_requantize_channel(&c1, zero_point, min, max, acc[2]);
    if (rows > 1) {
      o[row_stride] = flexq_requantize_channel(&c0, zero_point, min, max, acc[1]);
      o[channel_stride + row_stride] = flexq_requantize_channel(&c1, zero_point, min, max, acc[3]);
    }
  }
  if (m < units) {
    /* the last odd channel: four taps (two words) of its weights per group */
    int32_t a0 = bias[m], a1 = bias[m];
    const int16_t *x = rows_interleaved;
    for (int32_t k = 0; k < depth8; k += 4, w += 4, x += 8) {
      const int32_t w_lo = (int32_t)flexq_read_u32(w), w_hi = (int32_t)flexq_read_u32(w + 2);
      a0 = flexq_smlad(w_hi, (int32_t)flexq_read_u32(x + 2), flexq_smlad(w_lo, (int32_t)flexq_read_u32(x), a0));
      a1 = flexq_smlad(w_hi, (int32_t)flexq_read_u32(x + 6), flexq_smlad(w_lo, (int32_t)flexq_read_u32(x + 4), a1));
    }
    const flexq_channel_constants c0 = flexq_channel_constants_of(requant, m);
    out[m * channel_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a0);
    if (rows > 1) out[m * channel_stride + row_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a1);
  }
}
