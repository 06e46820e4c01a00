import { mulberry32 } from '../../src/random.js';
// The requantization modes against exact references written from each target's definition with BigInt and
// rational arithmetic: the references use no Math.fround and no 16-bit splitting, nothing the implementation uses.
import { describe, expect, it } from 'vitest';
import {
  a100OutputScale,
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplierDouble,
  multiplyByQuantizedMultiplierSingle,
  onnxOutputScale,
  prepareRequantizer,
  quantizeMultiplier,
  quantizeMultiplierSingleRounding,
  REQUANT_MODES,
  requantizeFp32,
  roundHalfToEven,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  tfliteConvMultiplier,
  tfliteDoubleFromMultiplier,
  tfliteFullyConnectedMultiplier,
  type RequantMode,
  type RequantParams,
} from '../../runtime/requant/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Exact arithmetic helpers: a double as a rational, and a rational rounded to a binary float format (ties to even).

type Rational = { n: bigint; d: bigint }; // d > 0

const F64_VIEW = new DataView(new ArrayBuffer(8));

/** The exact value of a finite double as n / d, d a power of two. */
function toRational(x: number): Rational {
  F64_VIEW.setFloat64(0, x);
  const hi = F64_VIEW.getUint32(0);
  const lo = F64_VIEW.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return exponent >= 0 ? { n: sign * (mantissa << BigInt(exponent)), d: 1n } : { n: sign * mantissa, d: 1n << BigInt(-exponent) };
}

const mulR = (a: Rational, b: Rational): Rational => ({ n: a.n * b.n, d: a.d * b.d });
const divR = (a: Rational, b: Rational): Rational => (b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n });
const bitLength = (v: bigint): number => v.toString(2).length;

/** Integer division of non-negative n by d > 0, rounded to nearest, ties to even. */
function divRoundHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twiceRem = 2n * (n - q * d);
  if (twiceRem > d || (twiceRem === d && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** A rational rounded to nearest-even in a binary format with `precision` bits, lowest bit 2^minExp, largest finite value maxFinite. */
function roundToBinary(r: Rational, precision: number, minExp: number, maxFinite: number): number {
  if (r.n === 0n) return 0;
  const negative = r.n < 0n;
  const n = negative ? -r.n : r.n;
  let e = bitLength(n) - bitLength(r.d); // floor(log2(n/d)) is e or e − 1
  if (e >= 0 ? n < r.d << BigInt(e) : n << BigInt(-e) < r.d) e -= 1;
  const u = Math.max(e - (precision - 1), minExp);
  const m = u >= 0 ? divRoundHalfEven(n, r.d << BigInt(u)) : divRoundHalfEven(n << BigInt(-u), r.d);
  let value = Number(m) * 2 ** u; // m ≤ 2^precision: exact
  if (value > maxFinite) value = Infinity;
  return negative ? -value : value;
}

const FLOAT32_MAX = (2 ** 24 - 1) * 2 ** 104;
const toF32 = (r: Rational): number => roundToBinary(r, 24, -149, FLOAT32_MAX);
const toF64 = (r: Rational): number => roundToBinary(r, 53, -1074, Number.MAX_VALUE);
const clampN = (v: number, min: number, max: number): number => (v < min ? min : v > max ? max : v);
const wrap32 = (v: bigint): bigint => BigInt.asIntN(32, v);

// ---------------------------------------------------------------------------------------------------------------
// References, straight from the definitions.

/** TFLite QuantizeMultiplier from the exact value of m: shift with 2^(shift−1) ≤ m < 2^shift, q = round(m·2^(31−shift)) half away. */
function refQuantizeMultiplier(m: number, singleRounding = false): { multiplier: number; shift: number } {
  if (m === 0) return { multiplier: 0, shift: 0 };
  const r = toRational(m);
  let shift = bitLength(r.n) - bitLength(r.d) + 1;
  if (shift - 1 >= 0 ? r.n < r.d << BigInt(shift - 1) : r.n << BigInt(1 - shift) < r.d) shift -= 1;
  // q = m · 2^(31 − shift) rounded half away from zero (m > 0: half up)
  const num = 31 - shift >= 0 ? r.n << BigInt(31 - shift) : r.n;
  const den = 31 - shift >= 0 ? r.d : r.d << BigInt(shift - 31);
  let q = (2n * num + den) / (2n * den);
  if (q === 1n << 31n) {
    q = 1n << 30n;
    shift += 1;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (singleRounding && shift > 30) return { multiplier: 2 ** 31 - 1, shift: 30 };
  return { multiplier: Number(q), shift };
}

/** gemmlowp SaturatingRoundingDoublingHighMul, literally: (a·b + nudge) / 2^31 with C's truncating division. */
function refSrdhm(a: number, b: number): bigint {
  if (a === INT32_MIN && b === INT32_MIN) return BigInt(INT32_MAX);
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return (ab + nudge) / (1n << 31n); // BigInt division truncates toward zero, as C's
}

/** x / 2^e rounded to nearest, ties away from zero. */
function refRoundingDivide(x: bigint, e: number): bigint {
  const magnitude = x < 0n ? -x : x;
  const q = (2n * magnitude + (1n << BigInt(e))) / (2n << BigInt(e)); // floor(|x|/2^e + 1/2)
  return x < 0n ? -q : q;
}

function refTfliteDouble(acc: number, q: number, shift: number, zp: number, min: number, max: number): number {
  const x = wrap32(BigInt(acc) << BigInt(Math.max(shift, 0))); // int32 multiply by 2^left, wrapping
  const h = refSrdhm(Number(x), q);
  const r = refRoundingDivide(h, Math.max(-shift, 0));
  return clampN(Number(wrap32(r + BigInt(zp))), min, max);
}

function refTfliteSingle(acc: number, q: number, shift: number, zp: number, min: number, max: number): number {
  const t = BigInt(31 - shift);
  const r = wrap32((BigInt(acc) * BigInt(q) + (1n << (t - 1n))) >> t); // BigInt >> is an arithmetic (floor) shift
  return clampN(Number(wrap32(r + BigInt(zp))), min, max);
}

/** v rounded half to even, from its exact binary value. */
function refRoundHalfEven(v: number): bigint {
  const r = toRational(v);
  const negative = r.n < 0n;
  const q = divRoundHalfEven(negative ? -r.n : r.n, r.d);
  return negative ? -q : q;
}

function refFp32(acc: number, scale: number, zp: number, min: number, max: number): number {
  const v = toF32(mulR(toRational(toF32({ n: BigInt(acc), d: 1n })), toRational(scale)));
  if (v === Infinity) return max;
  if (v === -Infinity) return min;
  return clampN(Number(refRoundHalfEven(v) + BigInt(zp)), min, max);
}

const f32Of = (s: number): Rational => toRational(toF32(toRational(s)));
const refOnnxScale = (a: number, b: number, c: number): number => toF32(divR(toRational(toF32(mulR(f32Of(a), f32Of(b)))), f32Of(c)));
const refA100Scale = (a: number, b: number, c: number): number => toF32(toRational(toF64(divR(mulR(f32Of(a), f32Of(b)), f32Of(c)))));
const refConvMultiplier = (a: number, b: number, c: number): number => toF64(divR(mulR(f32Of(a), f32Of(b)), f32Of(c)));

/** The reference of one mode for given params, as a function of the accumulator; also its effective real multiplier. */
function referenceFor(mode: RequantMode, p: RequantParams): { ref: (acc: number) => number; effective: number } {
  const { zeroPoint: zp, min, max } = p;
  if (mode === 'tflite-double' || mode === 'tflite-single' || mode === 'tflite-builtin') {
    const single = mode !== 'tflite-double';
    const { multiplier: q, shift } = refQuantizeMultiplier(refConvMultiplier(p.inputScale, p.weightScale, p.outputScale), single);
    const f = single ? refTfliteSingle : refTfliteDouble;
    return { ref: (acc) => f(acc, q, shift, zp, min, max), effective: q * 2 ** (shift - 31) };
  }
  const scale = (mode === 'onnx' || mode === 'tflite-xnnpack' ? refOnnxScale : refA100Scale)(p.inputScale, p.weightScale, p.outputScale);
  return { ref: (acc) => refFp32(acc, scale, zp, min, max), effective: scale };
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded random numbers.

const randInt = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const logUniform = (rand: () => number, lo: number, hi: number): number => lo * (hi / lo) ** rand();
const randInt32 = (rand: () => number): number => Math.floor(rand() * 4294967296) - 2147483648;

const INT8: Pick<RequantParams, 'zeroPoint' | 'min' | 'max'> = { zeroPoint: 0, min: -128, max: 127 };

// ---------------------------------------------------------------------------------------------------------------

describe('quantizeMultiplier (TFLite QuantizeMultiplier)', () => {
  it('splits exact values and flushes tiny ones as TFLite does', () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 3 * 2 ** 29, shift: 0 });
    expect(quantizeMultiplier(1.5)).toEqual({ multiplier: 3 * 2 ** 29, shift: 1 });
    // f·2^31 just below 2^31 rounds to 2^31: the fix-up halves it and bumps the shift.
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(2 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 2 });
    // Ties of f·2^31 go away from zero: f = ½ + 2^−32 → 2^30 + ½ → 2^30 + 1.
    expect(quantizeMultiplier(0.5 + 2 ** -32)).toEqual({ multiplier: 2 ** 30 + 1, shift: 0 });
    // The flush happens after the fix-up: just under 2^−32 survives as (2^30, −31); 2^−33 is flushed.
    expect(quantizeMultiplier(2 ** -32 * (1 - 2 ** -40))).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(1e-9).shift).toBe(-29);
    expect(() => quantizeMultiplier(-1)).toThrow(/-1/);
    expect(() => quantizeMultiplier(NaN)).toThrow(/NaN/);
  });

  it('saturates shift > 30 in the single-rounding build only', () => {
    expect(quantizeMultiplier(2 ** 31)).toEqual({ multiplier: 2 ** 30, shift: 32 });
    expect(quantizeMultiplierSingleRounding(2 ** 31)).toEqual({ multiplier: 2 ** 31 - 1, shift: 30 });
    expect(quantizeMultiplierSingleRounding(2 ** 29)).toEqual({ multiplier: 2 ** 30, shift: 30 });
    expect(quantizeMultiplierSingleRounding(2 ** 30)).toEqual({ multiplier: 2 ** 31 - 1, shift: 30 });
  });

  it('matches the exact reference on 200k log-uniform multipliers', () => {
    const rand = mulberry32(1);
    for (let i = 0; i < 200_000; i++) {
      const m = i % 4 === 0 ? Math.fround(logUniform(rand, 1e-12, 4)) : logUniform(rand, 1e-12, 2 ** 32);
      const got = quantizeMultiplier(m);
      const want = refQuantizeMultiplier(m);
      if (got.multiplier !== want.multiplier || got.shift !== want.shift) expect({ m, got }).toEqual({ m, got: want });
    }
  });

  it('computes the real multiplier as TFLite conv (double product) and per-tensor FC (float product)', () => {
    const [a, b, c] = [Math.fround(0.0235), Math.fround(0.0066), Math.fround(0.1)];
    expect(tfliteConvMultiplier(a, b, c)).toBe(refConvMultiplier(a, b, c));
    expect(tfliteFullyConnectedMultiplier(a, b, c)).toBe(toF64(divR(toRational(toF32(mulR(f32Of(a), f32Of(b)))), f32Of(c))));
    expect(tfliteFullyConnectedMultiplier(a, b, c)).not.toBe(tfliteConvMultiplier(a, b, c));
  });
});

describe('saturatingRoundingDoublingHighMul', () => {
  it('saturates INT32_MIN · INT32_MIN and rounds ties toward +∞', () => {
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN + 1)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX)).toBe(INT32_MIN + 1);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, 1)).toBe(-1);
    // a·b / 2^31 = ±0.5, ±1.5 exactly
    expect(saturatingRoundingDoublingHighMul(1, 2 ** 30)).toBe(1);
    expect(saturatingRoundingDoublingHighMul(-1, 2 ** 30)).toBe(0);
    expect(saturatingRoundingDoublingHighMul(3, 2 ** 30)).toBe(2);
    expect(saturatingRoundingDoublingHighMul(-3, 2 ** 30)).toBe(-1);
    expect(saturatingRoundingDoublingHighMul(2 ** 30, -3)).toBe(-1);
  });

  it('matches the literal BigInt definition on 300k pairs', () => {
    const rand = mulberry32(2);
    const edges = [INT32_MIN, INT32_MIN + 1, -65536, -65535, -1, 0, 1, 65535, 65536, 2 ** 30, INT32_MAX];
    for (let i = 0; i < 300_000; i++) {
      const a = i < 121 ? edges[i % 11] : randInt32(rand);
      const b = i < 121 ? edges[Math.floor(i / 11)] : i % 3 === 0 ? randInt(rand, -70000, 70000) : randInt32(rand);
      const got = saturatingRoundingDoublingHighMul(a, b);
      if (got !== Number(refSrdhm(a, b))) expect({ a, b, got }).toEqual({ a, b, got: Number(refSrdhm(a, b)) });
    }
  });
});

describe('roundingDivideByPOT', () => {
  it('rounds ties away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3);
    expect(roundingDivideByPOT(-5, 1)).toBe(-3);
    expect(roundingDivideByPOT(3, 1)).toBe(2);
    expect(roundingDivideByPOT(-3, 1)).toBe(-2);
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // −1.5
    expect(roundingDivideByPOT(-5, 2)).toBe(-1); // −1.25
    expect(roundingDivideByPOT(2 ** 30, 31)).toBe(1);
    expect(roundingDivideByPOT(-(2 ** 30), 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
    expect(roundingDivideByPOT(INT32_MIN, 0)).toBe(INT32_MIN);
    expect(roundingDivideByPOT(-7, 0)).toBe(-7);
  });

  it('matches the exact reference for every exponent', () => {
    const rand = mulberry32(3);
    for (let i = 0; i < 200_000; i++) {
      const e = i % 32;
      const x = i % 5 === 0 ? (randInt(rand, -4, 4) * 2 + 1) * 2 ** Math.max(e - 1, 0) : randInt32(rand); // many exact ties
      const xi = x | 0;
      const want = Number(refRoundingDivide(BigInt(xi), e));
      const got = roundingDivideByPOT(xi, e);
      if (got !== want) expect({ x: xi, e, got }).toEqual({ x: xi, e, got: want });
    }
  });
});

describe('MultiplyByQuantizedMultiplier, both TFLite builds', () => {
  it('differ on negative ties: double rounds away from zero twice, single rounds half up once', () => {
    // M = 0.25 exactly: q = 2^30, shift = −1.
    expect(multiplyByQuantizedMultiplierDouble(10, 2 ** 30, -1)).toBe(3); // 2.5
    expect(multiplyByQuantizedMultiplierSingle(10, 2 ** 30, -1)).toBe(3);
    expect(multiplyByQuantizedMultiplierDouble(-10, 2 ** 30, -1)).toBe(-3); // −2.5
    expect(multiplyByQuantizedMultiplierSingle(-10, 2 ** 30, -1)).toBe(-2);
    expect(multiplyByQuantizedMultiplierDouble(-6, 2 ** 30, -1)).toBe(-2); // −1.5
    expect(multiplyByQuantizedMultiplierSingle(-6, 2 ** 30, -1)).toBe(-1);
  });

  it('wrap the int32 left shift and the int32 result as the compiled C does', () => {
    // shift 1: acc · 2 overflows int32 before the multiply.
    const acc = 2 ** 30 + 12345;
    expect(multiplyByQuantizedMultiplierDouble(acc, 2 ** 30, 1)).toBe(refTfliteDouble(acc, 2 ** 30, 1, 0, INT32_MIN, INT32_MAX));
    expect(multiplyByQuantizedMultiplierDouble(acc, 2 ** 30, 1)).toBeLessThan(0);
    // single rounding, M ≈ 2 and acc = INT32_MAX: the int64 result exceeds int32 and is truncated.
    expect(multiplyByQuantizedMultiplierSingle(INT32_MAX, INT32_MAX, 1)).toBe(refTfliteSingle(INT32_MAX, INT32_MAX, 1, 0, INT32_MIN, INT32_MAX));
    expect(multiplyByQuantizedMultiplierSingle(INT32_MAX, INT32_MAX, 30)).toBe(refTfliteSingle(INT32_MAX, INT32_MAX, 30, 0, INT32_MIN, INT32_MAX));
  });

  it('match the BigInt references over all shifts, q and x (300k each)', () => {
    const rand = mulberry32(4);
    for (let i = 0; i < 300_000; i++) {
      const shift = randInt(rand, -31, 30);
      const q = i % 7 === 0 ? 2 ** 30 : randInt(rand, 0, 2 ** 31 - 1);
      const x = i % 3 === 0 ? randInt(rand, -100000, 100000) : randInt32(rand);
      const single = multiplyByQuantizedMultiplierSingle(x, q, shift);
      const singleRef = refTfliteSingle(x, q, shift, 0, INT32_MIN, INT32_MAX);
      if (single !== singleRef) expect({ x, q, shift, single }).toEqual({ x, q, shift, single: singleRef });
      const double = multiplyByQuantizedMultiplierDouble(x, q, shift);
      const doubleRef = refTfliteDouble(x, q, shift, 0, INT32_MIN, INT32_MAX);
      if (double !== doubleRef) expect({ x, q, shift, double }).toEqual({ x, q, shift, double: doubleRef });
    }
  });
});

describe('the fp32 epilogue (onnx, a100)', () => {
  it('rounds half to even', () => {
    for (const [v, want] of [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [3.4999998, 3], [2 ** 52 + 1, 2 ** 52 + 1]]) {
      expect(roundHalfToEven(v)).toBe(want);
    }
    expect(requantizeFp32(5, 0.5, 0, -128, 127)).toBe(2); // 2.5
    expect(requantizeFp32(7, 0.5, 0, -128, 127)).toBe(4); // 3.5
    expect(requantizeFp32(-5, 0.5, 0, -128, 127)).toBe(-2);
    expect(requantizeFp32(-7, 0.5, 3, -128, 127)).toBe(-1); // −3.5 → −4, + 3
  });

  it('converts the accumulator to float32 first (2^24 + 1 → 2^24, ties to even)', () => {
    // fp32(2^24 + 1) · 2.5·2^−24 = 2.5 exactly → 2; multiplying the exact int first would give fp32(2.5000001) → 3.
    expect(requantizeFp32(2 ** 24 + 1, 2.5 * 2 ** -24, 0, INT32_MIN, INT32_MAX)).toBe(2);
    expect(requantizeFp32(-(2 ** 24 + 1), 2.5 * 2 ** -24, 0, INT32_MIN, INT32_MAX)).toBe(-2);
    expect(refFp32(2 ** 24 + 1, 2.5 * 2 ** -24, 0, INT32_MIN, INT32_MAX)).toBe(2);
  });

  it('computes the scales: onnx rounds the product to float32 first, a100 divides the exact product', () => {
    const rand = mulberry32(5);
    let differ = 0;
    for (let i = 0; i < 20_000; i++) {
      const [a, b, c] = [logUniform(rand, 1e-4, 1), logUniform(rand, 1e-4, 1), logUniform(rand, 1e-4, 1)];
      expect(onnxOutputScale(a, b, c)).toBe(refOnnxScale(a, b, c));
      expect(a100OutputScale(a, b, c)).toBe(refA100Scale(a, b, c));
      if (onnxOutputScale(a, b, c) !== a100OutputScale(a, b, c)) differ++;
    }
    expect(differ).toBeGreaterThan(1000);
  });

  it('onnx and a100 disagree where the scales differ by an ulp next to a half-integer', () => {
    const p = { inputScale: 0.01177489198744297, weightScale: 0.012496033683419228, outputScale: 0.14772626757621765, ...INT8 };
    expect(onnxOutputScale(p.inputScale, p.weightScale, p.outputScale)).not.toBe(a100OutputScale(p.inputScale, p.weightScale, p.outputScale));
    expect(prepareRequantizer('onnx', p).apply(-84837)).toBe(-85);
    expect(prepareRequantizer('a100', p).apply(-84837)).toBe(-84);
    expect(referenceFor('onnx', p).ref(-84837)).toBe(-85);
    expect(referenceFor('a100', p).ref(-84837)).toBe(-84);
  });
});

describe('prepareRequantizer', () => {
  it('DESIGN.md: acc 22234 with real value 34.499… gives 35 with double rounding, 34 with single rounding', () => {
    const p = { inputScale: Math.fround(0.0235), weightScale: 0.006602820474654436, outputScale: Math.fround(0.1), ...INT8 };
    expect(Math.fround(p.weightScale)).toBe(p.weightScale);
    const real = 22234 * tfliteConvMultiplier(p.inputScale, p.weightScale, p.outputScale);
    expect(real).toBeGreaterThan(34.499);
    expect(real).toBeLessThan(34.5);
    const d = prepareRequantizer('tflite-double', p);
    expect(d.constants).toEqual({ kind: 'fixed-point', multiplier: 1706071220, shift: -9, ...INT8 });
    // SaturatingRoundingDoublingHighMul rounds 22234·q/2^31 = 17663.83 up to 17664 = 34.5 · 2^9; RoundingDivideByPOT then rounds 34.5 away.
    expect(saturatingRoundingDoublingHighMul(22234, 1706071220)).toBe(17664);
    expect(d.apply(22234)).toBe(35);
    expect(prepareRequantizer('tflite-single', p).apply(22234)).toBe(34);
    expect(prepareRequantizer('onnx', p).apply(22234)).toBe(34);
    expect(prepareRequantizer('a100', p).apply(22234)).toBe(34);
    for (const mode of REQUANT_MODES) expect(prepareRequantizer(mode, p).apply(22234)).toBe(referenceFor(mode, p).ref(22234));
  });

  it('handles exact ties, saturation, int32 extremes and zero points at the ends in every mode', () => {
    // M = 0.25 exactly (dyadic scales): every mode sees exact ties.
    const quarter = { inputScale: 0.5, weightScale: 0.125, outputScale: 0.25 };
    const cases: Array<[RequantParams, number, Record<RequantMode, number>]> = [
      [{ ...quarter, ...INT8 }, 10, { 'tflite-double': 3, 'tflite-single': 3, 'tflite-builtin': 3, 'tflite-xnnpack': 2, onnx: 2, a100: 2 }], // 2.5
      [{ ...quarter, ...INT8 }, -10, { 'tflite-double': -3, 'tflite-single': -2, 'tflite-builtin': -2, 'tflite-xnnpack': -2, onnx: -2, a100: -2 }], // −2.5
      [{ ...quarter, ...INT8 }, -6, { 'tflite-double': -2, 'tflite-single': -1, 'tflite-builtin': -1, 'tflite-xnnpack': -2, onnx: -2, a100: -2 }], // −1.5
      [{ ...quarter, ...INT8 }, 14, { 'tflite-double': 4, 'tflite-single': 4, 'tflite-builtin': 4, 'tflite-xnnpack': 4, onnx: 4, a100: 4 }], // 3.5
      [{ ...quarter, ...INT8 }, 1000, { 'tflite-double': 127, 'tflite-single': 127, 'tflite-builtin': 127, 'tflite-xnnpack': 127, onnx: 127, a100: 127 }],
      [{ ...quarter, ...INT8 }, -1000, { 'tflite-double': -128, 'tflite-single': -128, 'tflite-builtin': -128, 'tflite-xnnpack': -128, onnx: -128, a100: -128 }],
      [{ ...quarter, ...INT8 }, INT32_MAX, { 'tflite-double': 127, 'tflite-single': 127, 'tflite-builtin': 127, 'tflite-xnnpack': 127, onnx: 127, a100: 127 }],
      [{ ...quarter, ...INT8 }, INT32_MIN, { 'tflite-double': -128, 'tflite-single': -128, 'tflite-builtin': -128, 'tflite-xnnpack': -128, onnx: -128, a100: -128 }],
      // zero point at the ends: relu-style range [zp, 127] with zp = −128, and zp = 127
      [{ ...quarter, zeroPoint: -128, min: -128, max: 127 }, -9, { 'tflite-double': -128, 'tflite-single': -128, 'tflite-builtin': -128, 'tflite-xnnpack': -128, onnx: -128, a100: -128 }],
      [{ ...quarter, zeroPoint: -128, min: -128, max: 127 }, 1018, { 'tflite-double': 127, 'tflite-single': 127, 'tflite-builtin': 127, 'tflite-xnnpack': 126, onnx: 126, a100: 126 }], // 254.5
      [{ ...quarter, zeroPoint: 127, min: -128, max: 127 }, -1018, { 'tflite-double': -128, 'tflite-single': -127, 'tflite-builtin': -127, 'tflite-xnnpack': -127, onnx: -127, a100: -127 }], // −254.5
      [{ ...quarter, zeroPoint: 127, min: -128, max: 127 }, 2, { 'tflite-double': 127, 'tflite-single': 127, 'tflite-builtin': 127, 'tflite-xnnpack': 127, onnx: 127, a100: 127 }],
      // M = 1e−9: only huge accumulators move the output
      [{ inputScale: 1e-3, weightScale: 1e-3, outputScale: 1e3, ...INT8 }, INT32_MAX, { 'tflite-double': 2, 'tflite-single': 2, 'tflite-builtin': 2, 'tflite-xnnpack': 2, onnx: 2, a100: 2 }],
      [{ inputScale: 1e-3, weightScale: 1e-3, outputScale: 1e3, ...INT8 }, 400_000_000, { 'tflite-double': 0, 'tflite-single': 0, 'tflite-builtin': 0, 'tflite-xnnpack': 0, onnx: 0, a100: 0 }],
      // M = 1.5 (above 1: left shift 1)
      [{ inputScale: 0.75, weightScale: 1, outputScale: 0.5, ...INT8 }, -3, { 'tflite-double': -4, 'tflite-single': -4, 'tflite-builtin': -4, 'tflite-xnnpack': -4, onnx: -4, a100: -4 }], // −4.5
      [{ inputScale: 0.75, weightScale: 1, outputScale: 0.5, ...INT8 }, 3, { 'tflite-double': 5, 'tflite-single': 5, 'tflite-builtin': 5, 'tflite-xnnpack': 4, onnx: 4, a100: 4 }], // 4.5
    ];
    for (const [p, acc, want] of cases) {
      for (const mode of REQUANT_MODES) {
        const got = prepareRequantizer(mode, p).apply(acc);
        expect({ mode, p, acc, got }).toEqual({ mode, p, acc, got: want[mode] });
        expect(got).toBe(referenceFor(mode, p).ref(acc));
      }
    }
  });

  it('fixes up a multiplier that rounds to 2^31 (M = (1 + 2^−23)(1 − 2^−23) = 1 − 2^−46)', () => {
    const p = { inputScale: 1 + 2 ** -23, weightScale: 1 - 2 ** -23, outputScale: 1, ...INT8 };
    expect(prepareRequantizer('tflite-double', p).constants).toMatchObject({ multiplier: 2 ** 30, shift: 1 });
    expect(prepareRequantizer('tflite-single', p).constants).toMatchObject({ multiplier: 2 ** 30, shift: 1 });
    for (const acc of [-129, -128, -1, 0, 1, 126, 127, 128, INT32_MIN, INT32_MAX, 2 ** 30 + 7, -(2 ** 30) - 7]) {
      for (const mode of REQUANT_MODES) expect(prepareRequantizer(mode, p).apply(acc)).toBe(referenceFor(mode, p).ref(acc));
    }
    expect(prepareRequantizer('tflite-double', p).apply(-128)).toBe(-128);
  });

  it('wraps the zero-point addition in the TFLite modes (int32 arithmetic), not in the fp32 modes', () => {
    // M = 1 − 2^−23, acc = INT32_MAX: r ≈ 2^31 − 257, and r + 1000 overflows int32.
    const p = { inputScale: 1, weightScale: 1, outputScale: Math.fround(1 + 2 ** -23), zeroPoint: 1000, min: INT32_MIN, max: INT32_MAX };
    for (const mode of REQUANT_MODES) expect(prepareRequantizer(mode, p).apply(INT32_MAX)).toBe(referenceFor(mode, p).ref(INT32_MAX));
    expect(prepareRequantizer('tflite-double', p).apply(INT32_MAX)).toBeLessThan(0);
    expect(prepareRequantizer('tflite-single', p).apply(INT32_MAX)).toBeLessThan(0);
    expect(prepareRequantizer('onnx', p).apply(INT32_MAX)).toBe(INT32_MAX);
  });

  it('exposes the constants code generators need', () => {
    const p = { inputScale: 0.02, weightScale: 0.003, outputScale: 0.05, zeroPoint: -3, min: -128, max: 127 };
    const q = quantizeMultiplier(tfliteConvMultiplier(p.inputScale, p.weightScale, p.outputScale));
    expect(prepareRequantizer('tflite-double', p).constants).toEqual({ kind: 'fixed-point', ...q, zeroPoint: -3, min: -128, max: 127 });
    expect(prepareRequantizer('onnx', p).constants).toEqual({
      kind: 'fp32',
      scale: onnxOutputScale(p.inputScale, p.weightScale, p.outputScale),
      zeroPoint: -3,
      min: -128,
      max: 127,
    });
    expect(prepareRequantizer('a100', p).mode).toBe('a100');
    // Per-tensor FullyConnected in TFLite: the caller computes the multiplier its way.
    const fc = tfliteDoubleFromMultiplier(tfliteFullyConnectedMultiplier(p.inputScale, p.weightScale, p.outputScale), p);
    expect(fc.constants).toEqual({
      kind: 'fixed-point',
      ...quantizeMultiplier(tfliteFullyConnectedMultiplier(p.inputScale, p.weightScale, p.outputScale)),
      zeroPoint: -3,
      min: -128,
      max: 127,
    });
  });

  it('rejects bad parameters at prepare, naming the value', () => {
    const good = { inputScale: 0.02, weightScale: 0.003, outputScale: 0.05, ...INT8 };
    for (const mode of REQUANT_MODES) {
      expect(() => prepareRequantizer(mode, { ...good, outputScale: 0 })).toThrow(/outputScale must be a positive finite number, got 0/);
      expect(() => prepareRequantizer(mode, { ...good, inputScale: -0.1 })).toThrow(/inputScale .* got -0\.1/);
      expect(() => prepareRequantizer(mode, { ...good, weightScale: NaN })).toThrow(/weightScale .* got NaN/);
      expect(() => prepareRequantizer(mode, { ...good, weightScale: Infinity })).toThrow(/weightScale .* got Infinity/);
      expect(() => prepareRequantizer(mode, { ...good, weightScale: 1e-50 })).toThrow(/weightScale 1e-50 is not representable as a positive finite float32/);
      expect(() => prepareRequantizer(mode, { ...good, zeroPoint: 128 })).toThrow(/zeroPoint 128 lies outside \[min, max\] = \[-128, 127\]/);
      expect(() => prepareRequantizer(mode, { ...good, min: 5, max: 4, zeroPoint: 4 })).toThrow(/min 5 is greater than max 4/);
      expect(() => prepareRequantizer(mode, { ...good, zeroPoint: 0.5 })).toThrow(/zeroPoint must be an int32 integer, got 0\.5/);
    }
    expect(() => prepareRequantizer('tflite-double', { ...good, inputScale: 1e6, weightScale: 1e6, outputScale: 1e-6 })).toThrow(/left shift of 60/);
    expect(() => prepareRequantizer('onnx', { ...good, inputScale: 1e30, weightScale: 1e30, outputScale: 1e-30 })).toThrow(/overflows/);
    expect(() => prepareRequantizer('gemmlowp' as RequantMode, good)).toThrow(/unknown mode 'gemmlowp'/);
  });

  // A million accumulators per mode: 62,500 random parameter sets × 16 accumulators each.
  const PARAM_SETS = 62_500;
  const ACCS_PER_SET = 16;
  for (const [index, mode] of REQUANT_MODES.entries()) {
    it(`${mode}: a million random cases match the exact reference bit for bit`, () => {
      const rand = mulberry32(1000 + index);
      let checked = 0;
      for (let set = 0; set < PARAM_SETS; set++) {
        const p = randomParams(rand);
        const requantizer = prepareRequantizer(mode, p);
        const { ref, effective } = referenceFor(mode, p);
        for (let k = 0; k < ACCS_PER_SET; k++) {
          const acc = randomAccumulator(rand, effective);
          const got = requantizer.apply(acc);
          const want = ref(acc);
          if (got !== want) expect({ mode, p, acc, got }).toEqual({ mode, p, acc, got: want });
          checked++;
        }
      }
      expect(checked).toBe(1_000_000);
    });
  }
});

/** Scales with M log-uniform over [1e−6, 2) (one set in eight dyadic, so ties are exact), and an int8 output range. */
function randomParams(rand: () => number): RequantParams {
  let inputScale: number;
  let weightScale: number;
  let outputScale: number;
  if (rand() < 0.125) {
    // M = j · 2^(c − a − b) with j odd: exactly representable, so accumulators can land on exact halves.
    const j = 2 * randInt(rand, 0, 127) + 1;
    const exponent = randInt(rand, -19, 0) - Math.ceil(Math.log2(j));
    inputScale = 2 ** -randInt(rand, 0, 10);
    weightScale = j * 2 ** -randInt(rand, 8, 16);
    outputScale = (inputScale * weightScale) / (j * 2 ** exponent);
  } else {
    const m = logUniform(rand, 1e-6, 2);
    inputScale = Math.fround(logUniform(rand, 1e-3, 1));
    weightScale = Math.fround(logUniform(rand, 1e-4, 1e-1));
    outputScale = Math.fround((inputScale * weightScale) / m);
  }
  const shape = rand();
  if (shape < 0.7) return { inputScale, weightScale, outputScale, zeroPoint: randInt(rand, -128, 127), min: -128, max: 127 };
  if (shape < 0.85) {
    const zeroPoint = randInt(rand, -128, 127); // fused ReLU: the range starts at the zero point
    return { inputScale, weightScale, outputScale, zeroPoint, min: zeroPoint, max: 127 };
  }
  return { inputScale, weightScale, outputScale, zeroPoint: rand() < 0.5 ? -128 : 127, min: -128, max: 127 };
}

/** Accumulators over all of int32, small ones, and (half of them) within a few steps of a rounding boundary. */
function randomAccumulator(rand: () => number, effective: number): number {
  const kind = rand();
  if (kind < 0.25) return randInt32(rand);
  if (kind < 0.5) return randInt(rand, -65536, 65536);
  const boundary = Math.round((randInt(rand, -300, 300) + 0.5) / effective) + randInt(rand, -2, 2);
  return Math.min(Math.max(boundary, INT32_MIN), INT32_MAX);
}
