/* SPDX-License-Identifier: Apache-2.0 */
/* Dot products of one or two int16 input rows with every weight row, two output channels at a time, four taps per
 * step: each pair of weight words is loaded once and feeds four SMLADs per input row (layouts in gemm_dsp.h). */
#include "gemm_dsp.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

void flexq_gemm_rows_dsp(const int16_t *lhs, int32_t rows, const int8_t *weights, int32_t depth4, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int8_t *out, int32_t channel_stride,
                         int32_t row_stride) {
  const int16_t *second = rows > 1 ? lhs + depth4 : lhs; /* one row: the second sums are computed and dropped */
  const int32_t zero_point = requant->zero_point, min = requant->min, max = requant->max;
  const int8_t *w = weights;
  int32_t m = 0;
  for (; m + 1 < units; m += 2) {
    int32_t a00 = bias[m], a01 = bias[m], a10 = bias[m + 1], a11 = bias[m + 1];
    const int16_t *x0 = lhs, *x1 = second;
    for (const int8_t *end = w + 2 * depth4; w < end; w += 8, x0 += 4, x1 += 4) {
      const uint32_t u0 = flexq_read_u32(w), u1 = flexq_read_u32(w + 4);
      const int32_t x0_lo = (int32_t)flexq_read_u32(x0), x0_hi = (int32_t)flexq_read_u32(x0 + 2);
      const int32_t x1_lo = (int32_t)flexq_read_u32(x1), x1_hi = (int32_t)flexq_read_u32(x1 + 2);
      const int32_t w0_lo = flexq_sxtb16(u0), w0_hi = flexq_sxtb16_ror8(u0);
      a00 = flexq_smlad(w0_lo, x0_lo, a00);
      a00 = flexq_smlad(w0_hi, x0_hi, a00);
      a01 = flexq_smlad(w0_lo, x1_lo, a01);
      a01 = flexq_smlad(w0_hi, x1_hi, a01);
      const int32_t w1_lo = flexq_sxtb16(u1), w1_hi = flexq_sxtb16_ror8(u1);
      a10 = flexq_smlad(w1_lo, x0_lo, a10);
      a10 = flexq_smlad(w1_hi, x0_hi, a10);
      a11 = flexq_smlad(w1_lo, x1_lo, a11);
      a11 = flexq_smlad(w1_hi, x1_hi, a11);
    }
    const flexq_channel_constants c0 = flexq_channel_constants_of(requant, m), c1 = flexq_channel_constants_of(requant, m + 1);
    int8_t *o = out + m * channel_stride;
    o[0] = flexq_requantize_channel(&c0, zero_point, min, max, a00);
    o[channel_stride] = flexq_requantize_channel(&c1, zero_point, min, max, a10);
    if (rows > 1) {
      o[row_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a01);
      o[channel_stride + row_stride] = flexq_requantize_channel(&c1, zero_point, min, max, a11);
    }
  }
  if (m < units) {
    int32_t a00 = bias[m], a01 = bias[m];
    const int16_t *x0 = lhs, *x1 = second;
    for (const int8_t *end = w + depth4; w < end; w += 4, x0 += 4, x1 += 4) {
      const uint32_t u0 = flexq_read_u32(w);
      const int32_t w0_lo = flexq_sxtb16(u0), w0_hi = flexq_sxtb16_ror8(u0);
      a00 = flexq_smlad(w0_lo, (int32_t)flexq_read_u32(x0), a00);
      a00 = flexq_smlad(w0_hi, (int32_t)flexq_read_u32(x0 + 2), a00);
      a01 = flexq_smlad(w0_lo, (int32_t)flexq_read_u32(x1), a01);
      a01 = flexq_smlad(w0_hi, (int32_t)flexq_read_u32(x1 + 2), a01);
    }
    const flexq_channel_constants c0 = flexq_channel_constants_of(requant, m);
    out[m * channel_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a00);
    if (rows > 1) out[m * channel_stride + row_stride] = flexq_requantize_channel(&c0, zero_point, min, max, a01);
  }
}
