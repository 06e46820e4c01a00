/* SPDX-License-Identifier: Apache-2.0 */
/* Fully connected, Cortex-M DSP extension: the input once into int16 (zero tail to depth8) as row 0 of gemm_dsp.h's
 * interleaved rows (row 1 zero), then the dual-MAC GEMM of gemm_dsp.c on that one row. Bit-exact to flexq's reference
 * fully-connected kernel. Weights: depth8 = round_up(depth, 8) taps per unit, packed as gemm_dsp.h says (int16, or int8
 * where p->int8_weights); the input's
 * zero point is folded into the bias. Scratch: 2·depth8 int16. */
#include "flexq_kernels.h"
#include "gemm_dsp.h"
#include "flexq_requant.h"

void flexq_fully_connected_s8_dsp(const flexq_fully_connected_dsp_params *p, const int8_t *input, int8_t *output, int16_t *scratch) {
  const int32_t depth8 = (p->depth + 7) & ~7;
  for (int32_t k = 0; k < depth8; k++) {
    scratch[flexq_interleaved_at(0, k)] = k < p->depth ? input[k] : 0;
    scratch[flexq_interleaved_at(1, k)] = 0;
  }
  flexq_gemm_rows_dsp(scratch, 1, p->weights, p->int8_weights, depth8, p->units, p->bias, &p->requant, flexq_requant_path_of(&p->requant, p->units), output, 1, 0);
}
