/* SPDX-License-Identifier: Apache-2.0 */
/* Element-wise activations (Relu, Clip, Sigmoid, HardSigmoid, HardSwish): every int8 input has its answer in a
 * 256-entry table that flexq's code generator takes from the integer runtime's own kernel. y = table[x + 128]. */
#include "flexq_kernels.h"

void flexq_lookup_s8(const int8_t table[256], int32_t size, const int8_t *input, int8_t *output) {
  for (int32_t i = 0; i < size; i++) output[i] = table[input[i] + 128];
}
