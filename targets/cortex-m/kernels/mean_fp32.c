/* SPDX-License-Identifier: Apache-2.0 */
/* GlobalAveragePool as XNNPACK's qs8 mean (what LiteRT's default path runs an int8 MEAN over H, W with; runtime mode
 * tflite-xnnpack), in float32 on each plane's raw sum (contract at flexq_mean_fp32_params). The clamp to [min, max]
 * comes before the rounding (the same answer: the bounds are integers), so the magic-bias rounding sees |v| ≤ 128. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_mean_s8_fp32(const flexq_mean_fp32_params *p, const int8_t *input, int8_t *output) {
  const float low = (float)p->min, high = (float)p->max;
  for (int32_t c = 0; c < p->channels; c++) {
    const int8_t *plane = input + c * p->plane_size;
    int32_t sum = 0;
    for (int32_t i = 0; i < p->plane_size; i++) sum += plane[i];
    /* one statement per float operation: no fused multiply-add */
    const float scaled = (float)sum * p->scale;
    float v = scaled + p->bias;
    v = v < low ? low : v;
    v = v > high ? high : v;
    output[c] = (int8_t)flexq_round_half_to_even(v);
  }
}
