/* Softmax over one axis, as flexq's integer runtime computes it today (runtime/kernels/softmax.ts):
 *   v = fp32(s_in · (x − z_in)); p = exp(v − max v) / Σ exp(v − max v) in double;
 *   y = clamp(round_half_away(fp32(p / s_out)) + z_out, min, max).
 * Two passes of exp instead of a scratch buffer: the arena stays int8-only and the cost is a few exps per class. */
#include <math.h>
#include "flexq_kernels.h"

static float dequantize(const flexq_softmax_params *p, int8_t x) {
  return p->input_scale * (float)(x - p->input_zero_point);
}

void flexq_softmax_s8(const flexq_softmax_params *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; o++) {
    for (int32_t i = 0; i < p->inner; i++) {
      const int8_t *x = input + o * p->length * p->inner + i;
      int8_t *y = output + o * p->length * p->inner + i;
      float max = -INFINITY;
      for (int32_t k = 0; k < p->length; k++) {
        const float v = dequantize(p, x[k * p->inner]);
        if (v > max) max = v;
      }
      double sum = 0;
      for (int32_t k = 0; k < p->length; k++) sum += exp((double)dequantize(p, x[k * p->inner]) - (double)max);
      for (int32_t k = 0; k < p->length; k++) {
        const double e = exp((double)dequantize(p, x[k * p->inner]) - (double)max);
        const float scaled = (float)((e / sum) / (double)p->output_scale);
        int32_t q = (int32_t)round((double)scaled) + p->output_zero_point;
        if (q < p->output_min) q = p->output_min;
        if (q > p->output_max) q = p->output_max;
        y[k * p->inner] = (int8_t)q;
      }
    }
  }
}
