/* SPDX-License-Identifier: Apache-2.0 */
/* Mul of planes by one value each (squeeze-excite: x [C, H, W] times gate [C, 1, 1]) with flexq_mul_s8's arithmetic,
 * each plane's 256 possible answers tabulated first: table[v + 128] = requant((v − x_zero_point) · (gate[c] −
 * gate_zero_point)), then y = table[x + 128]. 256 requantizations per plane instead of one per element: flexq's code
 * generator picks it for planes larger than the table. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_mul_s8_per_plane(const flexq_mul_per_plane_params *p, const int8_t *x, const int8_t *gate, int8_t *output) {
  int8_t table[256];
  const int rule = flexq_mul_rule_of(&p->requant);
  for (int32_t c = 0; c < p->planes; c++) {
    const int32_t g = gate[c] - p->gate_zero_point;
    for (int32_t v = -128; v < 128; v++) table[v + 128] = flexq_requantize_mul_as(&p->requant, rule, (v - p->x_zero_point) * g);
    const int8_t *plane = x + c * p->plane_size;
    int8_t *out = output + c * p->plane_size;
    for (int32_t i = 0; i < p->plane_size; i++) out[i] = table[plane[i] + 128];
  }
}
