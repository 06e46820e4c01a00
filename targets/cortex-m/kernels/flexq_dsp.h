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
#define flexq_smlad __smlad
/* bytes 0 and 2 of v as two sign-extended halfwords */
static inline int32_t flexq_sxtb16(uint32_t v) { return (int32_t)__sxtb16((int32_t)v); }
#else
static inline int32_t flexq_sxtb16(uint32_t v) {
  const uint32_t lo = (uint32_t)(uint16_t)(int16_t)(int8_t)(v & 0xff), hi = (uint32_t)(uint16_t)(int16_t)(int8_t)((v >> 16) & 0xff);
  return (int32_t)(lo | (hi << 16));
}

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

/* The two int16 weight pairs (taps k, k+1 and k+2, k+3) of one int8 weight word in gemm_dsp.h's int8 order. */
static inline void flexq_unpack_weights(uint32_t word, int32_t *lo, int32_t *hi) {
  *lo = flexq_sxtb16(word);
  *hi = flexq_sxtb16((word >> 8) | (word << 24));
}

/* flexq_mac_2x2(w, x, depth8, acc): two output channels × two input rows over depth8 taps (a multiple of 8):
 * acc[0] += row 0 · channel m, acc[1] += row 1 · m, acc[2] += row 0 · m+1, acc[3] += row 1 · m+1. `w`: the pair's
 * int16 weights, `x`: the two interleaved rows, both in gemm_dsp.h's layout (per group of four taps, m's then m+1's;
 * row 0's then row 1's). Returns w past the pair. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
/* Helium (MVE): eight taps per turn; one halfword gather (VLDRH.S16) collects a channel's or a row's eight taps from
 * the two groups of four, then four VMLADAVA.S16 (eight products summed into a scalar each). The bases stay put and
 * the offsets move on: one vector add per turn instead of a copy and an add per pointer. */
static inline const int16_t *flexq_mac_2x2(const int16_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  /* taps k..k+3 and k+4..k+7 of channel m (row 0) within a block of 16 halfwords; +4 for m+1 (row 1) */
  static const uint16_t first[8] = {0, 1, 2, 3, 8, 9, 10, 11};
  uint16x8_t of_first = vld1q_u16(first), of_second = vaddq_n_u16(of_first, 4);
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  for (int32_t k = 0; k < depth8; k += 8) {
    const int16x8_t wm = vldrhq_gather_shifted_offset_s16(w, of_first), wm1 = vldrhq_gather_shifted_offset_s16(w, of_second);
    const int16x8_t r0 = vldrhq_gather_shifted_offset_s16(x, of_first), r1 = vldrhq_gather_shifted_offset_s16(x, of_second);
    a00 = vmladavaq_s16(a00, wm, r0);
    a01 = vmladavaq_s16(a01, wm, r1);
    a10 = vmladavaq_s16(a10, wm1, r0);
    a11 = vmladavaq_s16(a11, wm1, r1);
    of_first = vaddq_n_u16(of_first, 16);
    of_second = vaddq_n_u16(of_second, 16);
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w + 2 * depth8;
}

/* flexq_mac_2x2 with int8 weights (gemm_dsp.h's int8 order): VLDRB.S16 gathers a channel's eight taps sign-extended,
 * the group's bytes (k, k+2, k+1, k+3) read back in tap order by the offsets. */
static inline const int8_t *flexq_mac_2x2_int8_weights(const int8_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  static const uint16_t first[8] = {0, 1, 2, 3, 8, 9, 10, 11};
  static const uint16_t taps[8] = {0, 2, 1, 3, 8, 10, 9, 11};
  uint16x8_t of_first = vld1q_u16(first), of_second = vaddq_n_u16(of_first, 4);
  uint16x8_t of_taps = vld1q_u16(taps), of_taps_second = vaddq_n_u16(of_taps, 4);
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  for (int32_t k = 0; k < depth8; k += 8) {
    const int16x8_t wm = vldrbq_gather_offset_s16(w, of_taps), wm1 = vldrbq_gather_offset_s16(w, of_taps_second);
    const int16x8_t r0 = vldrhq_gather_shifted_offset_s16(x, of_first), r1 = vldrhq_gather_shifted_offset_s16(x, of_second);
    a00 = vmladavaq_s16(a00, wm, r0);
    a01 = vmladavaq_s16(a01, wm, r1);
    a10 = vmladavaq_s16(a10, wm1, r0);
    a11 = vmladavaq_s16(a11, wm1, r1);
    of_first = vaddq_n_u16(of_first, 16);
    of_second = vaddq_n_u16(of_second, 16);
    of_taps = vaddq_n_u16(of_taps, 16);
    of_taps_second = vaddq_n_u16(of_taps_second, 16);
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w + 2 * depth8;
}
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Four taps of both channels on both rows: one LDM of the two rows' words (four registers, ascending), an LDRD of
 * each channel's two words, eight SMLADs. */
#define FLEXQ_MAC_2X2_4TAPS \
  "ldm %[x]!, {%[x0a], %[x0b], %[x1a], %[x1b]}\n\t" \
  "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
  "smlad %[a00], %[wa], %[x0a], %[a00]\n\t" \
  "smlad %[a00], %[wb], %[x0b], %[a00]\n\t" \
  "smlad %[a01], %[wa], %[x1a], %[a01]\n\t" \
  "smlad %[a01], %[wb], %[x1b], %[a01]\n\t" \
  "ldrd %[wa], %[wb], [%[w]], #8\n\t" \
  "smlad %[a10], %[wa], %[x0a], %[a10]\n\t" \
  "smlad %[a10], %[wb], %[x0b], %[a10]\n\t" \
  "smlad %[a11], %[wa], %[x1a], %[a11]\n\t" \
  "smlad %[a11], %[wb], %[x1b], %[a11]\n\t"

/* On the DSP extension, one loop in assembly, eight taps per turn: every register holds an accumulator, a pointer or
 * an operand; the four input words are pinned to r8..r11 so that one LDM loads them in order. */
static inline const int16_t *flexq_mac_2x2(const int16_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  const int16_t *end = w + 2 * depth8;
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  register int32_t x0a __asm__("r8"), x0b __asm__("r9"), x1a __asm__("r10"), x1b __asm__("r11");
  int32_t wa, wb;
  __asm__(
      "1:\n\t"
      FLEXQ_MAC_2X2_4TAPS
      FLEXQ_MAC_2X2_4TAPS
      "cmp %[w], %[end]\n\t"
      "bne 1b"
      : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x),
        [x0a] "=&r"(x0a), [x0b] "=&r"(x0b), [x1a] "=&r"(x1a), [x1b] "=&r"(x1b), [wa] "=&r"(wa), [wb] "=&r"(wb)
      : [end] "r"(end)
      : "cc", "memory");
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w;
}
#undef FLEXQ_MAC_2X2_4TAPS

/* Four taps of both channels on both rows with int8 weights: one LDM of the two rows' words, then per channel one LDR
 * of its weight word, two SXTB16 (the second rotated by 8) and four SMLADs. */
#define FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS(a0, a1) \
  "ldr %[wv], [%[w]], #4\n\t" \
  "sxtb16 %[t], %[wv], ror #8\n\t" \
  "sxtb16 %[wv], %[wv]\n\t" \
  "smlad %[" a0 "], %[wv], %[x0a], %[" a0 "]\n\t" \
  "smlad %[" a0 "], %[t], %[x0b], %[" a0 "]\n\t" \
  "smlad %[" a1 "], %[wv], %[x1a], %[" a1 "]\n\t" \
  "smlad %[" a1 "], %[t], %[x1b], %[" a1 "]\n\t"

/* flexq_mac_2x2 with int8 weights (gemm_dsp.h's int8 order), eight taps per turn, in assembly as flexq_mac_2x2. */
static inline const int8_t *flexq_mac_2x2_int8_weights(const int8_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  const int8_t *end = w + 2 * depth8;
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  register int32_t x0a __asm__("r8"), x0b __asm__("r9"), x1a __asm__("r10"), x1b __asm__("r11");
  int32_t wv, t;
  __asm__(
      "1:\n\t"
      "ldm %[x]!, {%[x0a], %[x0b], %[x1a], %[x1b]}\n\t"
      FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS("a00", "a01")
      FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS("a10", "a11")
      "ldm %[x]!, {%[x0a], %[x0b], %[x1a], %[x1b]}\n\t"
      FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS("a00", "a01")
      FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS("a10", "a11")
      "cmp %[w], %[end]\n\t"
      "bne 1b"
      : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x),
        [x0a] "=&r"(x0a), [x0b] "=&r"(x0b), [x1a] "=&r"(x1a), [x1b] "=&r"(x1b), [wv] "=&r"(wv), [t] "=&r"(t)
      : [end] "r"(end)
      : "cc", "memory");
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
  return w;
}
#undef FLEXQ_MAC_2X2_INT8_WEIGHTS_4TAPS
#else
static inline const int16_t *flexq_mac_2x2(const int16_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  for (int32_t k = 0; k < depth8; k += 4, w += 8, x += 8) {
    const int32_t x0a = (int32_t)flexq_read_u32(x), x0b = (int32_t)flexq_read_u32(x + 2);
    const int32_t x1a = (int32_t)flexq_read_u32(x + 4), x1b = (int32_t)flexq_read_u32(x + 6);
    const int32_t wma = (int32_t)flexq_read_u32(w), wmb = (int32_t)flexq_read_u32(w + 2);
    const int32_t wna = (int32_t)flexq_read_u32(w + 4), wnb = (int32_t)flexq_read_u32(w + 6);
    acc[0] = flexq_smlad(wmb, x0b, flexq_smlad(wma, x0a, acc[0]));
    acc[1] = flexq_smlad(wmb, x1b, flexq_smlad(wma, x1a, acc[1]));
    acc[2] = flexq_smlad(wnb, x0b, flexq_smlad(wna, x0a, acc[2]));
    acc[3] = flexq_smlad(wnb, x1b, flexq_smlad(wna, x1a, acc[3]));
  }
  return w;
}

static inline const int8_t *flexq_mac_2x2_int8_weights(const int8_t *w, const int16_t *x, int32_t depth8, int32_t acc[4]) {
  for (int32_t k = 0; k < depth8; k += 4, w += 8, x += 8) {
    const int32_t x0a = (int32_t)flexq_read_u32(x), x0b = (int32_t)flexq_read_u32(x + 2);
    const int32_t x1a = (int32_t)flexq_read_u32(x + 4), x1b = (int32_t)flexq_read_u32(x + 6);
    int32_t wma, wmb, wna, wnb;
    flexq_unpack_weights(flexq_read_u32(w), &wma, &wmb);
    flexq_unpack_weights(flexq_read_u32(w + 4), &wna, &wnb);
    acc[0] = flexq_smlad(wmb, x0b, flexq_smlad(wma, x0a, acc[0]));
    acc[1] = flexq_smlad(wmb, x1b, flexq_smlad(wma, x1a, acc[1]));
    acc[2] = flexq_smlad(wnb, x0b, flexq_smlad(wna, x0a, acc[2]));
    acc[3] = flexq_smlad(wnb, x1b, flexq_smlad(wna, x1a, acc[3]));
  }
  return w;
}
#endif

#endif
