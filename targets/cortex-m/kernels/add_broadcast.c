/* SPDX-License-Identifier: Apache-2.0 */
/* Add of two int8 tensors with numpy broadcasting (DBNet's per-channel [C, 1, 1] shift of [C, H, W], a per-plane
 * operand): TFLite's int8 ADD (reference_integer_ops::BroadcastAdd6DSlow), each operand's rescale
 * a' = MBQM((a + a_offset)·2^left_shift, a_multiplier, a_shift) tabulated by flexq's code generator as in add_table.c,
 * y = requant(a' + b'). Output element (i0, i1, i2, i3) reads each operand at Σ ik · stride[k] (0 on a broadcast axis);
 * an operand of the output's shape is read at an index just before the output is written there. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_add_s8_broadcast(const flexq_add_broadcast_params *p, const int8_t *a, const int8_t *b, int8_t *output) {
  const flexq_broadcast *s = &p->broadcast;
  const int32_t *a_table = p->a_table + 128, *b_table = p->b_table + 128;
  for (int32_t i0 = 0; i0 < s->shape[0]; i0++) {
    for (int32_t i1 = 0; i1 < s->shape[1]; i1++) {
      for (int32_t i2 = 0; i2 < s->shape[2]; i2++) {
        const int8_t *ra = a + i0 * s->a_strides[0] + i1 * s->a_strides[1] + i2 * s->a_strides[2];
        const int8_t *rb = b + i0 * s->b_strides[0] + i1 * s->b_strides[1] + i2 * s->b_strides[2];
        for (int32_t i3 = 0; i3 < s->shape[3]; i3++) *output++ = flexq_requantize(&p->requant, a_table[ra[i3 * s->a_strides[3]]] + b_table[rb[i3 * s->b_strides[3]]]);
      }
    }
  }
}
