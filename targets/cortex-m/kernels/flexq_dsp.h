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

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
/* Two output channels × two input rows over depth8 taps, Helium (MVE): eight taps per turn as int16 vectors; each
 * channel's eight weight bytes are gathered from the pair's packing and sign-extended in one load
 * (VLDRB.S16 gather), then four VMLADAVA.S16 (eight products summed into a scalar each). Same contract as below. */
static inline const int8_t *flexq_mac_2x2(const int8_t *w, const int16_t *x0, int32_t row_bytes, int32_t depth8, int32_t acc[4]) {
  /* byte of tap k+i of channel m within a group of 8 taps: 4-tap halves 8 bytes apart, stored k, k+2, k+1, k+3 */
  static const uint16_t tap_bytes[8] = {0, 2, 1, 3, 8, 10, 9, 11};
  const uint16x8_t channel_m = vld1q_u16(tap_bytes), channel_m1 = vaddq_n_u16(channel_m, 4);
  const int16_t *x1 = x0 + row_bytes / 2;
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  for (int32_t k = 0; k < depth8; k += 8, w += 16) {
    const int16x8_t wm = vldrbq_gather_offset_s16(w, channel_m), wm1 = vldrbq_gather_offset_s16(w, channel_m1);
    const int16x8_t r0 = vld1q_s16(x0 + k), r1 = vld1q_s16(x1 + k);
    a00 = vmladavaq_s16(a00, wm, r0);
    a01 = vmladavaq_s16(a01, wm, r1);
    a10 = vmladavaq_s16(a10, wm1, r0);
    a11 = vmladavaq_s16(a11, wm1, r1);
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w;
}
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Four taps of flexq_mac_2x2's loop: one LDRD of the pair's weights, four LDRs of inputs, four SXTB16, eight SMLADs. */
#define FLEXQ_MAC_2X2_4TAPS \
  "ldrd %[w0], %[w1], [%[w]], #8\n\t" \
  "ldr %[xa], [%[x]], #4\n\t" \
  "ldr %[xb], [%[x], %[next]]\n\t" \
  "sxtb16 %[t], %[w0]\n\t" \
  "smlad %[a00], %[t], %[xa], %[a00]\n\t" \
  "smlad %[a01], %[t], %[xb], %[a01]\n\t" \
  "sxtb16 %[t], %[w1]\n\t" \
  "smlad %[a10], %[t], %[xa], %[a10]\n\t" \
  "smlad %[a11], %[t], %[xb], %[a11]\n\t" \
  "ldr %[xa], [%[x]], #4\n\t" \
  "ldr %[xb], [%[x], %[next]]\n\t" \
  "sxtb16 %[t], %[w0], ror #8\n\t" \
  "smlad %[a00], %[t], %[xa], %[a00]\n\t" \
  "smlad %[a01], %[t], %[xb], %[a01]\n\t" \
  "sxtb16 %[t], %[w1], ror #8\n\t" \
  "smlad %[a10], %[t], %[xa], %[a10]\n\t" \
  "smlad %[a11], %[t], %[xb], %[a11]\n\t"

/* Two output channels × two input rows over depth8 taps (a multiple of 8): acc[0] += row 0 · channel m,
 * acc[1] += row 1 · m, acc[2] += row 0 · m+1, acc[3] += row 1 · m+1. `w`: the pair's weights in gemm_dsp.h's packing
 * (8 bytes per 4 taps, 4-byte aligned), `x0`: row 0, row 1 `row_bytes` after it. Returns w past the pair. On the
 * DSP extension, one loop in assembly: every register holds an accumulator, a pointer or an operand (gcc's own
 * allocation spills accumulators in this loop), eight taps per turn. */
static inline const int8_t *flexq_mac_2x2(const int8_t *w, const int16_t *x0, int32_t row_bytes, int32_t depth8, int32_t acc[4]) {
  const int8_t *end = w + 2 * depth8;
  const int32_t next_row = row_bytes - 4; /* row 1's word, read after row 0's post-increment */
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  uint32_t w0, w1;
  int32_t xa, xb, t;
  __asm__(
      "1:\n\t"
      FLEXQ_MAC_2X2_4TAPS
      FLEXQ_MAC_2X2_4TAPS
      "cmp %[w], %[end]\n\t"
      "bne 1b"
      : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x0),
        [w0] "=&r"(w0), [w1] "=&r"(w1), [xa] "=&r"(xa), [xb] "=&r"(xb), [t] "=&r"(t)
      : [end] "r"(end), [next] "r"(next_row)
      : "cc", "memory");
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w;
}
#undef FLEXQ_MAC_2X2_4TAPS
#else
/* Two output channels × two input rows over depth8 taps; the contract of the DSP version above. */
static inline const int8_t *flexq_mac_2x2(const int8_t *w, const int16_t *x0, int32_t row_bytes, int32_t depth8, int32_t acc[4]) {
  const int16_t *x1 = x0 + row_bytes / 2;
  for (int32_t k = 0; k < depth8; k += 4, w += 8) {
    const int32_t w0_lo = flexq_sxtb16(flexq_read_u32(w)), w0_hi = flexq_sxtb16_ror8(flexq_read_u32(w));
    const int32_t w1_lo = flexq_sxtb16(flexq_read_u32(w + 4)), w1_hi = flexq_sxtb16_ror8(flexq_read_u32(w + 4));
    const int32_t x0_lo = (int32_t)flexq_read_u32(x0 + k), x0_hi = (int32_t)flexq_read_u32(x0 + k + 2);
    const int32_t x1_lo = (int32_t)flexq_read_u32(x1 + k), x1_hi = (int32_t)flexq_read_u32(x1 + k + 2);
    acc[0] = flexq_smlad(w0_hi, x0_hi, flexq_smlad(w0_lo, x0_lo, acc[0]));
    acc[1] = flexq_smlad(w0_hi, x1_hi, flexq_smlad(w0_lo, x1_lo, acc[1]));
    acc[2] = flexq_smlad(w1_hi, x0_hi, flexq_smlad(w1_lo, x0_lo, acc[2]));
    acc[3] = flexq_smlad(w1_hi, x1_hi, flexq_smlad(w1_lo, x1_lo, acc[3]));
  }
  return w;
}
#endif

#endif
