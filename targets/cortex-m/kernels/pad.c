/* SPDX-License-Identifier: Apache-2.0 */
/* Constant Pad of one sample (up to 4 axes, ones in front), on one grid: TFLite's int8 PAD. The output [out_shape]
 * holds the input at offset `before` on each axis and `fill` (the grid's integer for the pad value) elsewhere. */
#include "flexq_kernels.h"

void flexq_pad_s8(const flexq_pad_params *p, const int8_t *input, int8_t *output) {
  const int32_t *in = p->in_shape, *before = p->before;
  for (int32_t i0 = 0; i0 < p->out_shape[0]; i0++) {
    const int32_t j0 = i0 - before[0];
    for (int32_t i1 = 0; i1 < p->out_shape[1]; i1++) {
      const int32_t j1 = i1 - before[1];
      for (int32_t i2 = 0; i2 < p->out_shape[2]; i2++) {
        const int32_t j2 = i2 - before[2];
        const int inside = j0 >= 0 && j0 < in[0] && j1 >= 0 && j1 < in[1] && j2 >= 0 && j2 < in[2];
        const int8_t *row = input + ((j0 * in[1] + j1) * in[2] + j2) * in[3];
        for (int32_t i3 = 0; i3 < p->out_shape[3]; i3++) {
          const int32_t j3 = i3 - before[3];
          *output++ = inside && j3 >= 0 && j3 < in[3] ? row[j3] : (int8_t)p->fill;
        }
      }
    }
  }
}
