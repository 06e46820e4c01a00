// The a100 requantization epilogue, one accumulator at a time: the contract of runtime/requant/a100.ts.
//   scale = fp32(double(s_in) · double(s_w) / double(s_out))            once, on the host (a100OutputScale)
//   v     = fp32(fp32(acc) · scale)                                     int → float and the multiply round to nearest even
//   out   = rne(clamp(v, min − zp, max − zp)) + zp                      clamped in float, so the conversion never saturates
// __host__ __device__ so the runner's host path and the test program compile this same function: on the device it
// is the intrinsics below (cvt.rn.f32.s32, mul.rn.f32, max/min.f32, cvt.rni.s32.f32); on the host the same IEEE
// operations in the default rounding mode (x86-64 SSE evaluates float in float: no excess precision, and a lone
// multiply has nothing to fuse with).
#pragma once
#include <cmath>
#include <cstdint>

inline float a100OutputScale(float inputScale, float weightScale, float outputScale) {
  return static_cast<float>(static_cast<double>(inputScale) * static_cast<double>(weightScale) / static_cast<double>(outputScale));
}

__host__ __device__ inline int requantizeA100(int32_t acc, float scale, int zeroPoint, int outputMin, int outputMax) {
  const float low = static_cast<float>(outputMin - zeroPoint);
  const float high = static_cast<float>(outputMax - zeroPoint);
#ifdef __CUDA_ARCH__
  const float v = fminf(fmaxf(__fmul_rn(__int2float_rn(acc), scale), low), high);
  return __float2int_rn(v) + zeroPoint;
#else
  const float v = std::fmin(std::fmax(static_cast<float>(acc) * scale, low), high);
  return static_cast<int>(std::nearbyint(v)) + zeroPoint;
#endif
}
