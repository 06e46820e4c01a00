/* SPDX-License-Identifier: Apache-2.0 */
/* Concat along one axis: per outer step (the axes before it), each input's chunk in turn. An input on another grid
 * than the output goes through its 256-entry table, computed by flexq's code generator with the integer runtime's
 * function (TFLite's ConcatenationWithScaling, runtime/kernels/concat.ts); the others are copied. */
#include "flexq_kernels.h"

void flexq_concat_s8(const flexq_concat_params *p, const int8_t *const *inputs, int8_t *output) {
  for (int32_t step = 0; step < p->outer; step++) {
    for (int32_t i = 0; i < p->count; i++) {
      const int32_t chunk = p->chunk[i];
      const int8_t *x = inputs[i] + step * chunk;
      if (p->table_offset[i] >= 0) {
        const int8_t *table = p->tables + p->table_offset[i];
        for (int32_t k = 0; k < chunk; k++) *output++ = table[x[k] + 128];
      } else {
        for (int32_t k = 0; k < chunk; k++) *output++ = x[k];
      }
    }
  }
}
