/* SPDX-License-Identifier: Apache-2.0 */
/* Add of two int8 tensors of one shape: TFLite's int8 ADD (reference_integer_ops::AddFunc, default build).
 * Contract: a' = MBQM((a + a_offset)·2^left_shift, a_multiplier, a_shift) (shift ≤ 0), b' likewise,
 *           y  = requant(a' + b')  (the output multiplier and the output grid's clamp range). */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_add_s8(const flexq_add_params *p, const int8_t *a, const int8_t *b, int8_t *output) {
  for (int32_t i = 0; i < p->size; i++) {
    const int32_t sa = flexq_multiply_by_quantized_multiplier((a[i] + p->a_offset) * (1 << p->left_shift), p->a_multiplier, p->a_shift);
    const int32_t sb = flexq_multiply_by_quantized_multiplier((b[i] + p->b_offset) * (1 << p->left_shift), p->b_multiplier, p->b_shift);
    output[i] = flexq_requantize(&p->requant, sa + sb);
  }
}
