/* SPDX-License-Identifier: Apache-2.0 */
/* Fully connected, reference: TFLite-Micro's reference_integer_ops::FullyConnected.
 * Contract: y[m] = requant_m(bias[m] + Σ_k (x[k] + input_offset) · w[m][k]), weights [units][depth]. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_fully_connected_s8(const flexq_fully_connected_params *p, const int8_t *input, int8_t *output) {
  for (int32_t m = 0; m < p->units; m++) {
    const int8_t *row = p->weights + m * p->depth;
    int32_t acc = 0;
    for (int32_t k = 0; k < p->depth; k++) acc += (input[k] + p->input_offset) * row[k];
    output[m] = flexq_requantize_at(&p->requant, m, acc + p->bias[m]);
  }
}
