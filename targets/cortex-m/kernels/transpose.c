/* SPDX-License-Identifier: Apache-2.0 */
/* Transpose of one sample's axes (up to 4, ones in front): output element (i0, i1, i2, i3) of `shape` is the input
 * byte at Σ ik · in_strides[k] (the input's strides permuted). The integers are unchanged (one grid). */
#include "flexq_kernels.h"

void flexq_transpose_s8(const flexq_transpose_params *p, const int8_t *input, int8_t *output) {
  const int32_t *s = p->in_strides;
  for (int32_t i0 = 0; i0 < p->shape[0]; i0++)
    for (int32_t i1 = 0; i1 < p->shape[1]; i1++)
      for (int32_t i2 = 0; i2 < p->shape[2]; i2++) {
        const int8_t *row = input + i0 * s[0] + i1 * s[1] + i2 * s[2];
        for (int32_t i3 = 0; i3 < p->shape[3]; i3++) *output++ = row[i3 * s[3]];
      }
}
