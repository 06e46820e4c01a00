/* SPDX-License-Identifier: Apache-2.0 */
/* Add of two int8 tensors of one shape, optimized: TFLite's int8 ADD rescales each operand by itself,
 * a' = MBQM((a + a_offset)·2^left_shift, a_multiplier, a_shift), a function of the int8 a alone, so flexq's code
 * generator tabulates a' and b' for the 256 int8 values (with the integer runtime's own arithmetic); the kernel adds
 * two table entries and requantizes the sum. Bit-exact to add.c. Reads each element before writing it: the output
 * may be either operand. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_add_s8_table(const flexq_add_table_params *p, const int8_t *a, const int8_t *b, int8_t *output) {
  const int32_t *a_table = p->a_table + 128, *b_table = p->b_table + 128;
  const flexq_fixed_constants c = flexq_constants_of(p->requant.multiplier, p->requant.shift);
  const int32_t zero_point = p->requant.zero_point, min = p->requant.min, max = p->requant.max;
  for (int32_t i = 0; i < p->size; i++) output[i] = flexq_requantize_fixed(&c, zero_point, min, max, a_table[a[i]] + b_table[b[i]]);
}
