/* SPDX-License-Identifier: Apache-2.0 */
/* Fully connected, Cortex-M DSP extension: the input plus its offset once into int16 (zero tail to depth4), then
 * the dual-MAC GEMM of gemm_dsp.c on one row. Bit-exact to flexq's reference fully-connected kernel. Weights: rows of
 * depth4 = round_up(depth, 4) in the interleaved order of gemm_dsp.h. Scratch: depth4 int16. */
#include "flexq_kernels.h"
#include "gemm_dsp.h"

void flexq_fully_connected_s8_dsp(const flexq_fully_connected_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const int32_t depth4 = (p->depth + 3) & ~3;
  for (int32_t k = 0; k < p->depth; k++) scratch[k] = (int16_t)(input[k] + p->input_offset);
  for (int32_t k = p->depth; k < depth4; k++) scratch[k] = 0;
  flexq_gemm_rows_dsp(scratch, 1, p->weights, depth4, p->units, p->bias, &p->requant, output, 1, 0);
}
