// The float32 epilogue shared by the onnx and a100 modes (they differ only in how the fp32 scale is made).
// Contract, for int32 acc and a float32 scale:
//   v   = fp32(fp32(acc) · scale)          int32 → float32 rounds to nearest even; one float32 multiply, no FMA
//   out = clamp(rne(v) + zero_point, min, max)   rne: round half to even; exact integer arithmetic, no wrap
// Clamping v to [min − zp, max − zp] before rounding (what MLAS and the CUDA epilogue do, so no out-of-range
// value ever reaches the float → int conversion) gives the same result, because the bounds are integers.

import type { Float32Scales, OutputRange, RequantMode, Requantizer } from './types.js';

// Adding then subtracting 1.5·2^52 rounds a double with |v| ≤ 2^51 to an integer, ties to even (the default IEEE mode).
const ROUND_TO_EVEN_SHIFTER = 6755399441055744;

/** Round half to even for any finite double (|v| ≥ 2^52 is already an integer). */
export function roundHalfToEven(v: number): number {
  if (!(Math.abs(v) < 2 ** 51)) return v;
  return v + ROUND_TO_EVEN_SHIFTER - ROUND_TO_EVEN_SHIFTER;
}

/** The epilogue of one accumulator: see the contract above. */
export function requantizeFp32(acc: number, scale: number, zeroPoint: number, min: number, max: number): number {
  const v = Math.fround(Math.fround(acc) * scale);
  const low = min - zeroPoint;
  const high = max - zeroPoint;
  const clamped = v < low ? low : v > high ? high : v;
  return clamped + ROUND_TO_EVEN_SHIFTER - ROUND_TO_EVEN_SHIFTER + zeroPoint;
}

/** A Requantizer running the fp32 epilogue with a scale the caller's mode has already computed and checked. */
export function fp32EpilogueRequantizer(mode: RequantMode, scale: number, range: OutputRange): Requantizer {
  const { zeroPoint, min, max } = range;
  return {
    mode,
    constants: { kind: 'fp32', scale, zeroPoint, min, max },
    apply: (acc: number): number => requantizeFp32(acc, scale, zeroPoint, min, max),
  };
}

/** The fp32 scale must be finite (an infinite one turns acc 0 into NaN); a scale that underflows to 0 is what the target runs. */
export function checkedScale(mode: RequantMode, scale: number, s: Float32Scales): number {
  if (!Number.isFinite(scale)) {
    throw new Error(
      `requantizer '${mode}': the float32 scale s_in·s_w/s_out overflows ` +
        `(inputScale ${s.inputScale}, weightScale ${s.weightScale}, outputScale ${s.outputScale})`,
    );
  }
  return scale;
}
