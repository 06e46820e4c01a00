// The Requantizer of a TFLite-style fixed-point rule: (q, shift) precomputed, then a multiply-and-round function of
// the accumulator, + zero point (int32 wrap, as the compiled C), clamp. The rules differ only in that function.

import type { QuantizedMultiplier } from './quantize-multiplier.js';
import type { OutputRange, RequantMode, Requantizer } from './types.js';

export function fixedPointRequantizer(
  mode: RequantMode,
  { multiplier, shift }: QuantizedMultiplier,
  { zeroPoint, min, max }: OutputRange,
  multiply: (acc: number, multiplier: number, shift: number) => number,
): Requantizer {
  return {
    mode,
    constants: { kind: 'fixed-point', multiplier, shift, zeroPoint, min, max },
    apply(acc: number): number {
      const y = (multiply(acc, multiplier, shift) + zeroPoint) | 0;
      return y < min ? min : y > max ? max : y;
    },
  };
}
