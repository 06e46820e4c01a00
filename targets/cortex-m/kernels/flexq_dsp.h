/* SPDX-License-Identifier: Apache-2.0 */
/* The Cortex-M DSP-extension operations the optimized kernels use, from ACLE's arm_acle.h. A host build (the
 * sanitizer harness) has no DSP extension: there the same operations are plain C with the ACLE semantics, so the
 * optimized kernels' memory accesses can be checked off-target too. */
#ifndef FLEXQ_DSP_H
#define FLEXQ_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
/* Sign-extends bytes 0 and 2 into the low and high halfwords (SXTB16); the word is reinterpreted as ACLE's int8x4_t. */
static inline int32_t flexq_sxtb16(uint32_t x) { return __sxtb16((int8x4_t)x); }
#define flexq_smlad __smlad
/* SXTB16 of the word rotated right by 8 (bytes 1 and 3), one instruction (gcc does not fold the rotate into it). */
static inline int32_t flexq_sxtb16_ror8(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
#else
/* Sign-extends bytes 0 and 2 into the low and high halfwords. */
static inline int32_t flexq_sxtb16(uint32_t x) {
  const uint32_t low = (uint32_t)(int32_t)(int8_t)(x & 0xff) & 0xffffu;
  const uint32_t high = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xff) & 0xffffu;
  return (int32_t)(low | (high << 16));
}
/* Sign-extends bytes 1 and 3 into the low and high halfwords. */
static inline int32_t flexq_sxtb16_ror8(uint32_t x) { return flexq_sxtb16(x >> 8); }
/* acc + x.lo·y.lo + x.hi·y.hi on signed halfwords; wraps like the instruction. */
static inline int32_t flexq_smlad(int32_t x, int32_t y, int32_t acc) {
  const int32_t lo = (int32_t)(int16_t)(x & 0xffff) * (int32_t)(int16_t)(y & 0xffff);
  const int32_t hi = (int32_t)(int16_t)((uint32_t)x >> 16) * (int32_t)(int16_t)((uint32_t)y >> 16);
  return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
#endif

/* Unaligned 32-bit loads (LDR allows them on Cortex-M3 and later); memcpy keeps them defined C. */
static inline uint32_t flexq_read_u32(const void *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#endif
