// a100: the epilogue of flexq's CUDA IMMA kernel (mma.sync m16n8k32 s8·s8 → s32), which is written to this contract.
// Contract:
//   scale = fp32(double(s_in) · double(s_w) / double(s_out))   computed once on the host, passed as a float argument
//                                                              (the product of two float32s is exact in double)
//   per accumulator, on the device (nvcc -arch=sm_80 emits exactly cvt.rn.f32.s32, mul.rn.f32, max/min.f32, cvt.rni.s32.f32):
//     v   = __fmul_rn(__int2float_rn(acc), scale)             round to nearest even; __fmul_rn is never fused into an FMA
//     v   = fminf(fmaxf(v, min − zp), max − zp)                clamp in float (bounds exact in float32 for int8/int16
//                                                              outputs), so the conversion below never saturates
//     out = __float2int_rn(v) + zp                             cvt.rni.s32.f32: round half to even
//   = the fp32 epilogue of fp32-epilogue.ts with this scale.
// Where it differs from onnx: only the scale. onnx rounds s_in·s_w to float32 before dividing; a100 divides the exact
// product. The two scales differ by one float32 ulp for about a quarter of random scale triples, which moves an output
// only when fp32(acc)·scale lands within that ulp of a half-integer.

import { checkedScale, fp32EpilogueRequantizer } from './fp32-epilogue.js';
import type { RequantParams, Requantizer } from './types.js';
import { validateRequantParams } from './types.js';

/** The a100 kernel's fp32 scale: fp32(double(s_in) · double(s_w) / double(s_out)), from the float32 scales. */
export function a100OutputScale(inputScale: number, weightScale: number, outputScale: number): number {
  return Math.fround((Math.fround(inputScale) * Math.fround(weightScale)) / Math.fround(outputScale));
}

export function prepareA100(p: RequantParams): Requantizer {
  const s = validateRequantParams('a100', p);
  return fp32EpilogueRequantizer('a100', checkedScale('a100', a100OutputScale(s.inputScale, s.weightScale, s.outputScale), s), p);
}
