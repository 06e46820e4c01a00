// ∂L/∂w of a depthwise convolution (one input and one output channel per group), NCHW, for the ort-cpu backend: each
// image plane is read once, in cache, where onnxruntime's formulation (a grouped Conv with ∂L/∂y as the kernels)
// expands every plane kh·kw times (MobileNetV2's 32-channel layer at 112×112: 142 ms → 29 ms, one thread).
// Built by build.mjs (clang --target=wasm32 -msimd128); no libc, no stack, no globals: pointers are byte offsets
// into the one imported memory.
#include <wasm_simd128.h>

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }
/** ⌈a / b⌉ for b > 0 and any a. */
static int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/**
 * dw[c, i, j] = Σ over the planes p of channel c (p = n·channels + c) and every output position (r, q) of
 * x[p, r·sh + i·dh − pt, q·sw + j·dwl − pl] · dy[p, r, q], taps outside x reading 0. dw (channels·kh·kw values) is
 * overwritten. Per plane and tap the sum runs in four f32 lanes over q, lanes added last; planes add in order.
 */
__attribute__((export_name("depthwise_weight_gradient")))
void depthwise_weight_gradient(const float *x, const float *dy, float *dw, int planes, int channels, int h, int w, int ho, int wo,
                               int kh, int kw, int sh, int sw, int dh, int dwl, int pt, int pl) {
  for (int k = 0; k < channels * kh * kw; k++) dw[k] = 0.f;
  for (int p = 0; p < planes; p++) {
    const float *xp = x + p * h * w;
    const float *yp = dy + p * ho * wo;
    float *out = dw + (p % channels) * kh * kw;
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++) {
        const int top = i * dh - pt, left = j * dwl - pl;
        // Output rows and columns whose tap lands inside x.
        const int r0 = imax(0, ceil_div(-top, sh)), r1 = imin(ho, ceil_div(h - top, sh));
        const int q0 = imax(0, ceil_div(-left, sw)), q1 = imin(wo, ceil_div(w - left, sw));
        v128_t lanes = wasm_f32x4_splat(0.f);
        float rest = 0.f;
        for (int r = r0; r < r1; r++) {
          const float *xr = xp + (r * sh + top) * w + left;
          const float *yr = yp + r * wo;
          int q = q0;
          if (sw == 1)
            for (; q + 4 <= q1; q += 4) lanes = wasm_f32x4_add(lanes, wasm_f32x4_mul(wasm_v128_load(xr + q), wasm_v128_load(yr + q)));
          for (; q < q1; q++) rest += xr[q * sw] * yr[q];
        }
        out[i * kw + j] += (wasm_f32x4_extract_lane(lanes, 0) + wasm_f32x4_extract_lane(lanes, 1)) +
                           (wasm_f32x4_extract_lane(lanes, 2) + wasm_f32x4_extract_lane(lanes, 3)) + rest;
      }
  }
}
