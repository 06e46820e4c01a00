/* SPDX-License-Identifier: Apache-2.0 */
/* The dual-MAC dot products that the DSP conv and fully-connected kernels share.
 * Weights, packed offline in the order the loop reads them: output channels in pairs (m, m+1), and for each pair, per
 * group of four taps k..k+3, channel m's four then channel m+1's (a last odd channel alone). Either sign-extended to
 * int16, each word two consecutive taps as SMLAD takes them; or, where flash is short, int8 with each group's bytes in
 * the order (k, k+2, k+1, k+3), so that SXTB16 of the word gives the pair (k, k+1) and SXTB16 of the word rotated by 8
 * the pair (k+2, k+3). Depth is rounded up to depth8 (a multiple of 8, the loop's step) with zero weights.
 * Inputs: two rows (output pixels) of depth8 int16 (raw int8 values; the input's zero point is folded into the bias),
 * interleaved by groups of four taps: row 0's taps k..k+3, then row 1's (flexq_interleaved_at), 4-byte aligned, so
 * one LDM loads a group of both rows. */
#ifndef FLEXQ_GEMM_DSP_H
#define FLEXQ_GEMM_DSP_H

#include <stdint.h>
#include "flexq_kernels.h"

/* Index of tap k of row r in the interleaved input rows. */
static inline int32_t flexq_interleaved_at(int32_t r, int32_t k) { return ((k & ~3) << 1) + (r << 2) + (k & 3); }

/* out[m·channel_stride + r·row_stride] = requant_m(bias[m] + row r · weight row m) for rows r < rows (1 or 2; with
 * one row, the second row's slots are read and its sums dropped). weights: int16, or int8 where int8_weights is 1.
 * requant_path: flexq_requant_path_of the requantization (flexq_requant.h), found once per layer by the caller. */
void flexq_gemm_rows_dsp(const int16_t *rows_interleaved, int32_t rows, const void *weights, int32_t int8_weights, int32_t depth8, int32_t units,
                         const int32_t *bias, const flexq_channel_requant *requant, int requant_path, int8_t *out, int32_t channel_stride,
                         int32_t row_stride);

#endif
