/* SPDX-License-Identifier: Apache-2.0 */
/* Transposed convolution (ONNX ConvTranspose, TFLite TRANSPOSE_CONV, MediaPipe's Convolution2DTransposeBias), one
 * group, symmetric per-tensor weights [C][M][kh][kw]. Written as a gather, so no int32 accumulator plane is needed:
 * output (m, oy, ox) sums every input pixel (iy, ix) and tap (ky, kx) with iy·stride_h − pad_top + ky·dilation_h = oy
 * (and the same on x), i.e. iy = (oy + pad_top − ky·dilation_h) / stride_h where that divides exactly:
 *   y = requant_m(bias[m] + Σ (x[c][iy][ix] + input_offset) · w[c][m][ky][kx])   (the build's channel requantization)
 * The same integer sum as the runtime's scatter (runtime/kernels/conv-transpose.ts), in another order. */
#include "flexq_kernels.h"
#include "flexq_requant.h"

void flexq_conv_transpose_s8(const flexq_conv_transpose_params *p, const int8_t *input, int8_t *output) {
  const flexq_window *w = &p->window;
  const int32_t taps = w->kernel_h * w->kernel_w;
  for (int32_t m = 0; m < w->out_c; m++) {
    for (int32_t oy = 0; oy < w->out_h; oy++) {
      for (int32_t ox = 0; ox < w->out_w; ox++) {
        int32_t acc = p->bias[m];
        for (int32_t ky = 0; ky < w->kernel_h; ky++) {
          const int32_t ty = oy + w->pad_top - ky * w->dilation_h;
          if (ty < 0 || ty % w->stride_h != 0 || ty / w->stride_h >= w->in_h) continue;
          const int32_t iy = ty / w->stride_h;
          for (int32_t kx = 0; kx < w->kernel_w; kx++) {
            const int32_t tx = ox + w->pad_left - kx * w->dilation_w;
            if (tx < 0 || tx % w->stride_w != 0 || tx / w->stride_w >= w->in_w) continue;
            const int32_t ix = tx / w->stride_w;
            const int8_t *x = input + iy * w->in_w + ix;
            const int8_t *k = p->weights + m * taps + ky * w->kernel_w + kx;
            for (int32_t c = 0; c < w->in_c; c++) acc += (x[c * w->in_h * w->in_w] + p->input_offset) * k[c * w->out_c * taps];
          }
        }
        *output++ = flexq_requantize_at(&p->requant, m, acc);
      }
    }
  }
}
