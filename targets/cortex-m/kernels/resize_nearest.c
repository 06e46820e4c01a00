/* SPDX-License-Identifier: Apache-2.0 */
/* Nearest resize of int8 [C, in_h, in_w] on one grid: a copy. The source row of every output row and the source column
 * of every output column are computed by flexq's code generator with the integer runtime's function (onnxruntime's
 * placement, src/ops/resize.ts nearestIndices), so one loop serves every coordinate and rounding mode. */
#include "flexq_kernels.h"

void flexq_resize_nearest_s8(const flexq_resize_nearest_params *p, const int8_t *input, int8_t *output) {
  for (int32_t c = 0; c < p->channels; c++) {
    const int8_t *plane = input + c * p->in_h * p->in_w;
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int8_t *row = plane + p->rows[oy] * p->in_w;
      for (int32_t ox = 0; ox < p->out_w; ox++) *output++ = row[p->cols[ox]];
    }
  }
}
