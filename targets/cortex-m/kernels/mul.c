/* SPDX-License-Identifier: Apache-2.0 */
/* Mul of two int8 tensors with numpy broadcasting (the squeeze-excite Mul of [C, H, W] by [C, 1, 1]): TFLite's int8
 * MUL (reference_integer_ops::MulElementwise / BroadcastMul6DSlow), or XNNPACK's qs8 multiply (flexq_mul_requant).
 * Contract: y = requant((a − a_zero_point) · (b − b_zero_point)), the product exact in int32 (|·| ≤ 255²). */
#include "flexq_kernels.h"
#include "flexq_requant.h"

/* The loops with one requantization rule, a constant after inlining. */
static inline __attribute__((always_inline)) void mul_as(const flexq_mul_params *p, int rule, const int8_t *a, const int8_t *b, int8_t *output) {
  const flexq_broadcast *s = &p->broadcast;
  for (int32_t i0 = 0; i0 < s->shape[0]; i0++) {
    for (int32_t i1 = 0; i1 < s->shape[1]; i1++) {
      for (int32_t i2 = 0; i2 < s->shape[2]; i2++) {
        const int8_t *ra = a + i0 * s->a_strides[0] + i1 * s->a_strides[1] + i2 * s->a_strides[2];
        const int8_t *rb = b + i0 * s->b_strides[0] + i1 * s->b_strides[1] + i2 * s->b_strides[2];
        for (int32_t i3 = 0; i3 < s->shape[3]; i3++) {
          const int32_t product = (ra[i3 * s->a_strides[3]] - p->a_zero_point) * (rb[i3 * s->b_strides[3]] - p->b_zero_point);
          *output++ = flexq_requantize_mul_as(&p->requant, rule, product);
        }
      }
    }
  }
}

void flexq_mul_s8(const flexq_mul_params *p, const int8_t *a, const int8_t *b, int8_t *output) {
  if (flexq_mul_rule_of(&p->requant) == FLEXQ_MUL_FP32) mul_as(p, FLEXQ_MUL_FP32, a, b, output);
  else mul_as(p, FLEXQ_MUL_FIXED_POINT, a, b, output);
}
