/* SPDX-License-Identifier: Apache-2.0 */
/* The dual-MAC dot products that the DSP conv and fully-connected kernels share.
 * Weights, packed offline in the order the loop reads them: output channels in pairs (m, m+1), and for each pair, per
 * group of four taps k..k+3, channel m's four bytes then channel m+1's (a last odd channel alone). Each channel's four
 * bytes are stored w[k], w[k+2], w[k+1], w[k+3], so SXTB16 of the word gives the pair (w[k], w[k+1]) and SXTB16 of the
 * word rotated by 8 gives (w[k+2], w[k+3]): both line up with two consecutive int16 inputs for SMLAD. Depth is
 * rounded up to depth8 (a multiple of 8, the loop's step) with zero weights.
 * Inputs: rows of `depth8` int16 (raw int8 values; the input's zero point is folded into the bias), 4-byte aligned. */
#ifndef FLEXQ_GEMM_DSP_H
#define FLEXQ_GEMM_DSP_H

#include <stdint.h>
#include "flexq_kernels.h"

/* out[m·channel_stride + r·row_stride] = requant_m(bias[m] + row r · weight row m) for rows r < rows (1 or 2). */
void flexq_gemm_rows_dsp(const int16_t *lhs, int32_t rows, const int8_t *weights, int32_t depth8, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int8_t *out, int32_t channel_stride,
                         int32_t row_stride);

#endif
