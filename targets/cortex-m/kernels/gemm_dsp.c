/* SPDX-License-Identifier: Apache-2.0 */
/* Dot products of one or two int16 input rows with every weight row, two output channels at a time, four taps per
 * step: each weight word is loaded once and feeds two SMLADs per input row (layouts in gemm_dsp.h). */
#include "gemm_dsp.h"
#include "flexq_dsp.h"
#include "flexq_requant.h"

/* acc += the four products of taps k..k+3 of weight word w with inputs x[0..3]. */
#define FLEXQ_MAC4(acc, w_lo, w_hi, x) \
  do { \
    (acc) = flexq_smlad((w_lo), (int32_t)flexq_read_u32(x), (acc)); \
    (acc) = flexq_smlad((w_hi), (int32_t)flexq_read_u32((x) + 2), (acc)); \
  } while (0)

void flexq_gemm_rows_dsp(const int16_t *lhs, int32_t rows, const int8_t *weights, int32_t depth4, int32_t units,
                         const int32_t *bias, const flexq_requant *requant, int8_t *out, int32_t channel_stride,
                         int32_t row_stride) {
  const int16_t *x0 = lhs;
  const int16_t *x1 = rows > 1 ? lhs + depth4 : lhs; /* one row: the second sum is computed and dropped */
  int32_t m = 0;
  for (; m + 1 < units; m += 2) {
    const int8_t *w0 = weights + m * depth4;
    const int8_t *w1 = w0 + depth4;
    int32_t a00 = bias[m], a01 = bias[m], a10 = bias[m + 1], a11 = bias[m + 1];
    for (int32_t k = 0; k < depth4; k += 4) {
      const uint32_t u0 = flexq_read_u32(w0 + k), u1 = flexq_read_u32(w1 + k);
      const int32_t w0_lo = flexq_sxtb16(u0), w0_hi = flexq_sxtb16(flexq_ror(u0, 8));
      const int32_t w1_lo = flexq_sxtb16(u1), w1_hi = flexq_sxtb16(flexq_ror(u1, 8));
      FLEXQ_MAC4(a00, w0_lo, w0_hi, x0 + k);
      FLEXQ_MAC4(a01, w0_lo, w0_hi, x1 + k);
      FLEXQ_MAC4(a10, w1_lo, w1_hi, x0 + k);
      FLEXQ_MAC4(a11, w1_lo, w1_hi, x1 + k);
    }
    out[m * channel_stride] = flexq_requantize(requant, a00);
    out[(m + 1) * channel_stride] = flexq_requantize(requant, a10);
    if (rows > 1) {
      out[m * channel_stride + row_stride] = flexq_requantize(requant, a01);
      out[(m + 1) * channel_stride + row_stride] = flexq_requantize(requant, a11);
    }
  }
  if (m < units) {
    const int8_t *w0 = weights + m * depth4;
    int32_t a00 = bias[m], a01 = bias[m];
    for (int32_t k = 0; k < depth4; k += 4) {
      const uint32_t u0 = flexq_read_u32(w0 + k);
      const int32_t w0_lo = flexq_sxtb16(u0), w0_hi = flexq_sxtb16(flexq_ror(u0, 8));
      FLEXQ_MAC4(a00, w0_lo, w0_hi, x0 + k);
      FLEXQ_MAC4(a01, w0_lo, w0_hi, x1 + k);
    }
    out[m * channel_stride] = flexq_requantize(requant, a00);
    if (rows > 1) out[m * channel_stride + row_stride] = flexq_requantize(requant, a01);
  }
}
