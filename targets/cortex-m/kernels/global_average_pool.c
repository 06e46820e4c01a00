/* SPDX-License-Identifier: Apache-2.0 */
/* GlobalAveragePool: per channel, acc = Σ (x − z_in) over the plane (exact int32), y = requant(acc) with
 * M = s_in / (s_out · plane_size), the output grid's range. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_global_average_pool_s8(const flexq_global_average_pool_params *p, const int8_t *input, int8_t *output) {
  for (int32_t c = 0; c < p->channels; c++) {
    const int8_t *plane = input + c * p->plane_size;
    int32_t acc = 0;
    for (int32_t i = 0; i < p->plane_size; i++) acc += plane[i];
    output[c] = flexq_requantize(&p->requant, acc - p->input_zero_point * p->plane_size);
  }
}
