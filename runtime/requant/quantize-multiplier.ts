// TFLite's real → (Q31 multiplier, power-of-two shift) conversion, and the two ways TFLite computes the real multiplier.
// Contract (tensorflow/lite/kernels/internal/quantization_util.cc, QuantizeMultiplier, default build):
//   m == 0 → (0, 0). Otherwise (f, shift) = frexp(m), f ∈ [0.5, 1); q = round(f · 2^31), ties away from zero
//   (std::round); q == 2^31 → (2^30, shift + 1); shift < −31 → (0, 0) (tiny multipliers flush to zero).
//   No upper bound on shift in the default build. So m ≈ q · 2^(shift − 31), q ∈ [2^30, 2^31) or q = 0.
// The TFLITE_SINGLE_ROUNDING build adds one rule after those: shift > 30 → (2^31 − 1, 30).

export interface QuantizedMultiplier {
  /** Q31 fixed-point significand, 0 or in [2^30, 2^31). */
  multiplier: number;
  /** Power-of-two exponent: m ≈ multiplier · 2^(shift − 31). */
  shift: number;
}

const TWO_31 = 2147483648;

/** TFLite's QuantizeMultiplier (default, double-rounding build). m must be finite and ≥ 0. */
export function quantizeMultiplier(m: number): QuantizedMultiplier {
  if (!Number.isFinite(m) || m < 0) throw new Error(`quantizeMultiplier: multiplier must be finite and ≥ 0, got ${m}`);
  // Below 2^−64 frexp's exponent is ≤ −63, far past the −31 flush even after the 2^31 fix-up.
  if (m < 2 ** -64) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(m);
  // fraction · 2^31 is exact; Math.round sends positive ties up, which is std::round's "away from zero" here.
  let q = Math.round(fraction * TWO_31);
  let shift = exponent;
  if (q === TWO_31) {
    q = TWO_31 / 2;
    shift += 1;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: q, shift };
}

/** TFLite's QuantizeMultiplier as built with TFLITE_SINGLE_ROUNDING: also saturates shift > 30 to (2^31 − 1, 30). */
export function quantizeMultiplierSingleRounding(m: number): QuantizedMultiplier {
  const r = quantizeMultiplier(m);
  return r.shift > 30 ? { multiplier: TWO_31 - 1, shift: 30 } : r;
}

/**
 * The real multiplier of TFLite's int8 Conv2D, DepthwiseConv2D and per-channel FullyConnected
 * (PopulateConvolutionQuantizationParams, CalculateOpDataFullyConnected per-channel branch):
 * double(s_in) · double(s_w) / double(s_out), from the float32 scales. The product is exact in double.
 */
export function tfliteConvMultiplier(inputScale: number, weightScale: number, outputScale: number): number {
  return (Math.fround(inputScale) * Math.fround(weightScale)) / Math.fround(outputScale);
}

/**
 * The real multiplier of TFLite's per-tensor FullyConnected (GetQuantizedConvolutionMultipler):
 * double(float(s_in · s_w)) / double(s_out): the product is rounded to float32 first.
 */
export function tfliteFullyConnectedMultiplier(inputScale: number, weightScale: number, outputScale: number): number {
  return Math.fround(Math.fround(inputScale) * Math.fround(weightScale)) / Math.fround(outputScale);
}

/** frexp for finite m ≥ 2^−64: m = fraction · 2^exponent, fraction ∈ [0.5, 1). Exact: it only scales by powers of two. */
function frexp(m: number): { fraction: number; exponent: number } {
  let exponent = Math.floor(Math.log2(m)) + 1; // log2 may be off by one next to a power of two: corrected below
  let fraction = m * 2 ** -exponent;
  while (fraction >= 1) {
    fraction /= 2;
    exponent += 1;
  }
  while (fraction < 0.5) {
    fraction *= 2;
    exponent -= 1;
  }
  return { fraction, exponent };
}
