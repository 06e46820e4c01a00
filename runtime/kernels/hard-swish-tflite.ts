// TFLite's int8 HARD_SWISH (reference_ops::HardSwish, what LiteRT.js and tfjs-tflite run on both CPU paths; measured
// byte-equal on ppocr-cls's real grids, test/targets/tflite/realworld.test.ts), as a 256-entry table: int16 fixed point.
// Contract, input integer q on grid (sx, zx), output grid (sy, zy); every step in int16 as TFLite writes it:
//   prepare (float32): hires = (1/128)·sx; (mo, eo) = QuantizeMultiplier(hires/sy), (mr, er) = QuantizeMultiplier(hires/(3/32768)),
//                      each 31-bit multiplier cut to 16 bits: (m + 2^15) >> 16 (saturating at 32767)
//   v = (q − zx)·128;  o = SRDHM16(v, mo);  r = SRDHM16(v·2^(er−1), mr)·2 (er > 0) or RDBPOT(SRDHM16(v, mr), −er)
//   r = (r + 2^15) >> 1  (the relu6(x + 3)/6 gate in [0, 1] on 15 bits);  y = RDBPOT(DHM16(r, o), −eo) + zy, clamped
//   SRDHM16: rounding doubling high mul of int16s; DHM16: the same truncating, (a·b) / 2^15 toward zero.
// The float LUTPopulateInt8 form (src/quant/tflite-lut.ts) differs from this by one on ~0.05 % of real activations.

import { quantizeMultiplier, roundingDivideByPOT } from '../requant/index.js';

const [INT16_MIN, INT16_MAX] = [-32768, 32767];

/** gemmlowp's SaturatingRoundingDoublingHighMul on int16. */
function roundingDoublingHighMul16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  const ab = a * b;
  return Math.trunc((ab + (ab >= 0 ? 1 << 14 : 1 - (1 << 14))) / 32768);
}

/** TFLite's SaturatingDoublingHighMul on int16: no rounding nudge (it cancels the bias of the rounding one). */
function doublingHighMul16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  return Math.trunc((a * b) / 32768);
}

const saturatingLeftShift16 = (v: number, amount: number): number => Math.max(INT16_MIN, Math.min(INT16_MAX, v * 2 ** amount));

/** A 31-bit QuantizeMultiplier of a float32 ratio, cut to 16 bits (DownScaleInt32ToInt16Multiplier). */
function multiplier16(ratio: number): { multiplier: number; shift: number } {
  const { multiplier, shift } = quantizeMultiplier(ratio);
  return { multiplier: multiplier >= INT32_MAX_LESS_ROUNDING ? INT16_MAX : (multiplier + 32768) >> 16, shift };
}
const INT32_MAX_LESS_ROUNDING = 2147483647 - 32768;

/** The 256 outputs of TFLite's int8 HARD_SWISH between two grids (entry i for input integer i − 128): see the contract above. */
export function tfliteHardSwishTable(input: { scale: number; zeroPoint: number }, output: { scale: number; zeroPoint: number; qmin: number; qmax: number }): Int8Array {
  const f32 = Math.fround;
  const hires = f32(f32(1 / 128) * f32(input.scale));
  const out = multiplier16(f32(hires / f32(output.scale)));
  const reluish = multiplier16(f32(hires / f32(3 / 32768)));
  return Int8Array.from({ length: 256 }, (_, i) => {
    const v = (i - 128 - input.zeroPoint) * 128;
    const onOutputScale = roundingDoublingHighMul16(v, out.multiplier);
    let r = reluish.shift > 0 ? saturatingLeftShift16(v, reluish.shift - 1) : v;
    r = roundingDoublingHighMul16(r, reluish.multiplier);
    if (reluish.shift > 0) r = saturatingLeftShift16(r, 1);
    if (reluish.shift < 0) r = roundingDivideByPOT(r, -reluish.shift);
    r = (r + 32768) >> 1;
    const y = roundingDivideByPOT(doublingHighMul16(r, onOutputScale), -out.shift) + output.zeroPoint;
    return Math.max(output.qmin, Math.min(output.qmax, y));
  });
}
