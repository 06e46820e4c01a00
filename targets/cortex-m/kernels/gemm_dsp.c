/* SPDX-License-Identifier: Apache-2.0 */
/* Dot products of one or two int16 input rows with every weight row, two output channels at a time, eight taps per
 * step: each pair of weight words is loaded once and feeds four SMLADs per input row (layouts in gemm_dsp.h;
 * the pair loop is flexq_dsp.h's flexq_mac_2x2: SMLAD, or Helium/MVE on a core that has it). */
#include "gemm_dsp.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

/* Four taps of one channel (weight word u0) on two rows. */
#define FLEXQ_MAC_1X2(u0, x0, x1) \
  do { \
    const int32_t w0_lo = flexq_sxtb16(u0), w0_hi = flexq_sxtb16_ror8(u0); \
    a00 = flexq_smlad(w0_lo, (int32_t)flexq_read_u32(x0), a00); \
    a00 = flexq_smlad(w0_hi, (int32_t)flexq_read_u32((x0) + 2), a00); \
    a01 = flexq_smlad(w0_lo, (int32_t)flexq_read_u32(x1), a01); \
    a01 = flexq_smlad(w0_hi, (int32_t)flexq_read_u32((x1) + 2), a01); \
  } while (0)

void flexq_gemm_rows_dsp(const int16_t *lhs, int32_t rows, const int8_t *weights, int32_t depth8, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int8_t *out, int32_t channel_stride,
                         int32_t row_stride) {
  const int16_t *second = rows > 1 ? lhs + depth8 : lhs; /* one row: the second sums are computed and dropped */
  const int32_t zero_point = requant->zero_point, min = requant->min, max = requant->max;
  const int8_t *w = weights;
  int32_t m = 0;
  for (; m + 1 < units; m += 2) {
    int32_t acc[4] = {bias[m], bias[m], bias[m + 1], bias[m + 1]};
    w = flexq_mac_2x2(w, lhs, (int32_t)((second - lhs) * 2), depth8, acc);
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
    int32_t a00 = bias[m], a01 = bias[m];
    const int16_t *x0 = lhs, *x1 = second;
    for (const int8_t *end = w + depth8; w < end; w += 8, x0 += 8, x1 += 8) {
      FLEXQ_MAC_1X2(flexq_read_u32(w), x0, x1);
      FLEXQ_MAC_1X2(flexq_read_u32(w + 4), x0 + 4, x1 + 4);
    }
    const flexq_channel_constants c0 = flexq_channel_constants_of(requant, m);
    out[m * channel_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a00);
    if (rows > 1) out[m * channel_stride + row_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a01);
  }
}
