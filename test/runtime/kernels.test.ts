import { mulberry32 } from '../../src/random.js';
// Each integer kernel against a reference written here from its contract: naive loops over every index, int32 sums
// in exact arithmetic, fixed-point multiplies in BigInt and float32 steps as exactly rounded rationals (the
// references use neither Math.fround nor the kernels' helpers). A last block checks the onnx-mode rules against
// onnxruntime-node itself on QDQ models (x86-64 with AVX2, where ORT picks the kernels the contracts name).
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { windowOutput } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import type { Window2d } from '../../src/ops/window.js';
import { addElement, broadcastPlan, fmaFloat32, runBinary } from '../../runtime/kernels/add.js';
import { averagePool2d } from '../../runtime/kernels/average-pool.js';
import { concat, rescaleTable } from '../../runtime/kernels/concat.js';
import { conv2d, prepareConv2d, type Conv2dParams } from '../../runtime/kernels/conv2d.js';
import { climb, fullyConnected, fusedActivationRange, prepareFullyConnected, staircase, type FusedActivation } from '../../runtime/kernels/gemm.js';
import { globalAveragePool, meanRequantizer } from '../../runtime/kernels/global-average-pool.js';
import { clipTo, elu, floatTable, hardSigmoid, hardSwishOnnx, hardSwishTflite, leakyRelu, tanh, tfliteReluTable, tfliteTableQuantizer } from '../../runtime/kernels/lut.js';
import { maxPool2d } from '../../runtime/kernels/max-pool.js';
import { mulElement } from '../../runtime/kernels/mul.js';
import { softmax } from '../../runtime/kernels/softmax.js';
import { gridQuantizer, quantizeTensor } from '../../runtime/quantize-input.js';
import { prepareRequantizer, quantizeMultiplier, REQUANT_MODES, tfliteBuild, type RequantMode, type Requantizer } from '../../runtime/requant/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness.

const rng = mulberry32;
const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const int8s = (r: () => number, n: number): Int8Array => Int8Array.from({ length: n }, () => int(r, -128, 127));
/** A float32 scale e^u for u uniform in [lo, hi). */
const scaleIn = (r: () => number, lo: number, hi: number): number => Math.fround(Math.exp(lo + r() * (hi - lo)));
const grid = (scale: number, zeroPoint: number): ActivationQuant => ({ scale, zeroPoint, bits: 8, qmin: -128, qmax: 127 });
const randomGrid = (r: () => number, lo = -5, hi = -1): ActivationQuant => grid(scaleIn(r, lo, hi), int(r, -128, 127));
const clamp8 = (v: number): number => Math.min(127, Math.max(-128, v));
/** Whether a mode runs TFLite arithmetic in the element-wise kernels (tflite-builtin and tflite-xnnpack: the single-rounding build's). */
const isTflite = (mode: RequantMode): boolean => tfliteBuild(mode) !== undefined;

// ---------------------------------------------------------------------------------------------------------------
// Exact arithmetic: doubles as dyadic rationals n·2^e, float32 rounding of exact values (ties to even).

interface Dyadic { n: bigint; e: number }
const VIEW = new DataView(new ArrayBuffer(8));

function dyadic(x: number): Dyadic {
  if (x === 0) return { n: 0n, e: 0 };
  VIEW.setFloat64(0, x);
  const hi = VIEW.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(VIEW.getUint32(4));
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  return { n: hi >>> 31 ? -mantissa : mantissa, e: (biased === 0 ? 1 : biased) - 1075 };
}

const bitLength = (m: bigint): number => m.toString(2).length;

/** n·2^e (+ a sticky bit below the last: the true value is a little larger in magnitude) rounded to float32. */
function roundToFloat32(n: bigint, e: number, sticky = false): number {
  if (n === 0n) return 0;
  const negative = n < 0n;
  const m = negative ? -n : n;
  const shift = bitLength(m) - 24;
  let q = m;
  let exponent = e;
  if (shift > 0) {
    q = m >> BigInt(shift);
    const rem = m - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q += 1n;
    exponent += shift;
  }
  const v = Number(q) * 2 ** exponent;
  return negative ? -v : v;
}

function exactSum(a: Dyadic, b: Dyadic): Dyadic {
  const e = Math.min(a.e, b.e);
  return { n: (a.n << BigInt(a.e - e)) + (b.n << BigInt(b.e - e)), e };
}
const exactProduct = (a: Dyadic, b: Dyadic): Dyadic => ({ n: a.n * b.n, e: a.e + b.e });
const f32Of = (d: Dyadic): number => roundToFloat32(d.n, d.e);
const f32Mul = (a: number, b: number): number => f32Of(exactProduct(dyadic(a), dyadic(b)));
const f32Add = (a: number, b: number): number => f32Of(exactSum(dyadic(a), dyadic(b)));
const f32Fma = (a: number, b: number, c: number): number => f32Of(exactSum(exactProduct(dyadic(a), dyadic(b)), dyadic(c)));
function f32Div(a: number, b: number): number {
  const [x, y] = [dyadic(a), dyadic(b)];
  const scaled = x.n << 96n;
  const q = scaled / y.n;
  return roundToFloat32(q, x.e - y.e - 96, q * y.n !== scaled);
}

/** Round half to even / half away from zero of a double, exactly. */
function rne(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}
function roundAway(v: number): number {
  const a = Math.abs(v);
  const f = Math.floor(a);
  const r = a - f >= 0.5 ? f + 1 : f;
  return v < 0 ? -r : r;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed-point references in BigInt.

/** gemmlowp SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (ties away from zero). */
function mbqmDoubleRef(x: number, q: number, shift: number): number {
  const left = BigInt(Math.max(shift, 0));
  const right = BigInt(Math.max(-shift, 0));
  const ab = (BigInt(x) << left) * BigInt(q);
  const h = (ab + (1n << 30n)) >> 31n; // floor((ab + 2^30) / 2^31)
  if (right === 0n) return Number(h);
  const half = 1n << (right - 1n);
  const magnitude = ((h < 0n ? -h : h) + half) >> right;
  return Number(h < 0n ? -magnitude : magnitude);
}
/** TFLITE_SINGLE_ROUNDING: (x·q + 2^(t−1)) >> t, t = 31 − shift. */
function mbqmSingleRef(x: number, q: number, shift: number): number {
  const t = BigInt(31 - shift);
  return Number((BigInt(x) * BigInt(q) + (1n << (t - 1n))) >> t);
}
const mbqmRef = (mode: 'tflite-double' | 'tflite-single') => (mode === 'tflite-double' ? mbqmDoubleRef : mbqmSingleRef);

// ---------------------------------------------------------------------------------------------------------------

describe('fmaFloat32 (the float32 FMA of the onnx-mode Add)', () => {
  it('rounds once where a double sum lands on a float32 tie', () => {
    // 130 · (16519105·2^−35) = 2^−4·(1 + 2^−30): the exact sum lies just above the midpoint between 2^20 and 2^20 + 2^−3.
    const m = 16519105 * 2 ** -35;
    expect(Math.fround(m)).toBe(m);
    expect(Math.fround(130 * m + 2 ** 20)).toBe(2 ** 20);
    expect(fmaFloat32(130, m, 2 ** 20)).toBe(2 ** 20 + 2 ** -3);
    expect(fmaFloat32(-130, m, -(2 ** 20))).toBe(-(2 ** 20) - 2 ** -3);
  });

  it('equals the exactly rounded x·m + c on random int8 × float32 + float32', () => {
    const r = rng(11);
    for (let i = 0; i < 20000; i++) {
      const x = int(r, -128, 127);
      const m = Math.fround((r() - 0.5) * 2 ** int(r, -20, 8));
      const c = Math.fround((r() - 0.5) * 2 ** int(r, -10, 24));
      expect(fmaFloat32(x, m, c)).toBe(f32Fma(x, m, c));
    }
  });
});

describe('quantizeInput: float → grid by the mode rule', () => {
  it('tflite rounds half away from zero, onnx and a100 half to even, all saturate', () => {
    const r = rng(5);
    const g = grid(Math.fround(0.0371), -9);
    const xs = Float32Array.from({ length: 4000 }, (_, i) => (i % 2 ? Math.fround((int(r, -400, 400) + 0.5) * g.scale) : Math.fround((r() - 0.5) * 20)));
    for (const mode of REQUANT_MODES) {
      const round = isTflite(mode) ? roundAway : rne;
      const want = Int8Array.from(xs, (x) => clamp8(round(f32Div(x, g.scale)) + g.zeroPoint));
      expect(quantizeTensor(mode, g, xs)).toEqual(want);
    }
  });
});

describe('fused activation range (TFLite CalculateActivationRangeQuantized)', () => {
  it('none, relu and relu6 with TfLiteRound of 6/scale', () => {
    const g = grid(0.05, -100);
    expect(fusedActivationRange('none', g)).toEqual({ zeroPoint: -100, min: -128, max: 127 });
    expect(fusedActivationRange('relu', g)).toEqual({ zeroPoint: -100, min: -100, max: 127 });
    expect(fusedActivationRange('relu6', g)).toEqual({ zeroPoint: -100, min: -100, max: 20 });
    // 6 / 12 = 0.5 exactly: half away from zero gives 1 (half to even would give 0).
    expect(fusedActivationRange('relu6', grid(12, -128))).toEqual({ zeroPoint: -128, min: -128, max: -127 });
  });
});

describe('staircase requantization equals the requantizer it was built from', () => {
  for (const mode of REQUANT_MODES)
    it(mode, () => {
      const r = rng(mode.length * 17);
      // M from 1e−8 (steps past the largest accumulator) to 4 (a left shift of 2 in the fixed-point modes), with the
      // clamp ranges of every fused activation; the largest bound is INT32_MAX.
      for (const m of [1e-8, 1e-5, 3.7e-4, 0.0123, 0.31, 0.999, 1.5, 3.99]) {
        const output = randomGrid(r);
        const activation = (['none', 'relu', 'relu6'] as const)[int(r, 0, 2)];
        const rq = prepareRequantizer(mode, { inputScale: 0.5, weightScale: Math.fround(m), outputScale: 0.5, ...fusedActivationRange(activation, output) });
        const bound = m === 1e-8 || m === 0.999 ? 2 ** 31 - 1 : int(r, 1000, 2 ** 31 - 1);
        const s = staircase(rq, bound);
        const accs = [-bound - 1, -bound, bound, bound + 1, 2 ** 31 - 1, -(2 ** 31), 0];
        for (const t of s.thresholds.subarray(1)) accs.push(t - 1, t, t + 1);
        for (let i = 0; i < 3000; i++) accs.push(int(r, -bound, bound), int(r, -300 / m, 300 / m));
        for (const acc of accs) if (climb(s, acc | 0) !== rq.apply(acc | 0)) expect([m, acc, climb(s, acc | 0)]).toEqual([m, acc, rq.apply(acc | 0)]);
      }
    });
});

// ---------------------------------------------------------------------------------------------------------------

interface ConvCase {
  name: string;
  c: number;
  h: number;
  w: number;
  m: number;
  group: number;
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  activation: FusedActivation;
  weightZeroPoint?: number;
  /** One weight scale per output channel (the TFLite converter's conv weights). */
  perChannel?: boolean;
}

const CONV_CASES: ConvCase[] = [
  { name: 'pointwise 1×1, odd pixel count, 7 channels', c: 5, h: 3, w: 5, m: 7, group: 1, kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], activation: 'none' },
  { name: '3×3 pad 1 relu', c: 3, h: 6, w: 7, m: 4, group: 1, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], activation: 'relu' },
  { name: '3×3 stride 2 asymmetric pads relu6', c: 4, h: 9, w: 8, m: 5, group: 1, kernel: [3, 3], strides: [2, 2], pads: [0, 1, 1, 0], dilations: [1, 1], activation: 'relu6' },
  { name: '1×1 stride 2 (shortcut)', c: 6, h: 8, w: 8, m: 3, group: 1, kernel: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], activation: 'none' },
  { name: '10×4 stride 2 (DS-CNN stem)', c: 1, h: 15, w: 10, m: 6, group: 1, kernel: [10, 4], strides: [2, 2], pads: [4, 1, 5, 2], dilations: [1, 1], activation: 'relu' },
  { name: 'dilation 2, stride (2,1)', c: 2, h: 9, w: 9, m: 3, group: 1, kernel: [3, 2], strides: [2, 1], pads: [2, 1, 2, 1], dilations: [2, 2], activation: 'none' },
  { name: 'grouped: 2 groups of 3 channels', c: 6, h: 5, w: 6, m: 4, group: 2, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], activation: 'relu' },
  { name: 'depthwise 3×3', c: 5, h: 7, w: 6, m: 5, group: 5, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], activation: 'relu6' },
  { name: 'depthwise 3×3 odd width (a lone last column)', c: 3, h: 4, w: 7, m: 3, group: 3, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], activation: 'none' },
  { name: 'depthwise 3×3 stride 2, multiplier 2', c: 3, h: 8, w: 9, m: 6, group: 3, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1], activation: 'none' },
  { name: 'depthwise 3×3 dilation 2 stride (2,1)', c: 2, h: 9, w: 8, m: 2, group: 2, kernel: [3, 3], strides: [2, 1], pads: [2, 2, 2, 2], dilations: [2, 2], activation: 'none' },
  { name: 'depthwise 5×5 stride (2,1)', c: 4, h: 7, w: 9, m: 4, group: 4, kernel: [5, 5], strides: [2, 1], pads: [2, 2, 2, 2], dilations: [1, 1], activation: 'relu' },
  { name: 'per-channel 3×3 pad 1 relu6', c: 4, h: 6, w: 5, m: 6, group: 1, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], activation: 'relu6', perChannel: true },
  { name: 'per-channel pointwise', c: 6, h: 3, w: 3, m: 9, group: 1, kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], activation: 'none', perChannel: true },
  { name: 'per-channel depthwise 3×3 stride 2', c: 5, h: 8, w: 7, m: 5, group: 5, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1], activation: 'relu', perChannel: true },
  { name: 'weight zero point −3', c: 3, h: 5, w: 5, m: 5, group: 1, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], dilations: [1, 1], activation: 'none', weightZeroPoint: -3 },
];

function convParams(k: ConvCase, mode: RequantMode, r: () => number): Conv2dParams {
  const window: Window2d = { kernel: k.kernel, strides: k.strides, pads: k.pads, dilations: k.dilations };
  const oh = windowOutput(k.h, k.kernel[0], k.strides[0], k.pads[0], k.pads[2], k.dilations[0]) as number;
  const ow = windowOutput(k.w, k.kernel[1], k.strides[1], k.pads[1], k.pads[3], k.dilations[1]) as number;
  const depth = (k.c / k.group) * k.kernel[0] * k.kernel[1];
  const [sx, sw] = [scaleIn(r, -4, -2), scaleIn(r, -6, -4)];
  const output = grid(Math.fround(sx * sw * 128 * Math.sqrt(depth) * (0.5 + r())), int(r, -60, 60));
  const range = fusedActivationRange(k.activation, output);
  return {
    inputShape: [k.c, k.h, k.w],
    outputShape: [k.m, oh, ow],
    window,
    group: k.group,
    inputZeroPoint: int(r, -20, 20),
    weights: Int8Array.from({ length: k.m * depth }, () => int(r, -127, 127)),
    weightZeroPoint: k.weightZeroPoint ?? 0,
    bias: Int32Array.from({ length: k.m }, () => int(r, -3000, 3000)),
    requantizer: k.perChannel
      ? Array.from({ length: k.m }, () => prepareRequantizer(mode, { inputScale: sx, weightScale: Math.fround(sw * (0.25 + 1.5 * r())), outputScale: output.scale, ...range }))
      : prepareRequantizer(mode, { inputScale: sx, weightScale: sw, outputScale: output.scale, ...range }),
  };
}

/** The requantizer of output channel o, per tensor or per channel. */
function requantizerOf(p: Conv2dParams, o: number): Requantizer {
  return Array.isArray(p.requantizer) ? (p.requantizer as readonly Requantizer[])[o] : (p.requantizer as Requantizer);
}

function convReference(p: Conv2dParams, x: Int8Array, batch: number): Int8Array {
  const [c, h, w] = p.inputShape;
  const [m, oh, ow] = p.outputShape;
  const { kernel: [kh, kw], strides: [sh, sw], pads: [pt, pl], dilations: [dh, dw] } = p.window;
  const [cg, mg] = [c / p.group, m / p.group];
  const y = new Int8Array(batch * m * oh * ow);
  for (let n = 0; n < batch; n++)
    for (let o = 0; o < m; o++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = p.bias![o];
          const g = Math.floor(o / mg);
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const xv = x[((n * c + g * cg + ci) * h + iy) * w + ix] - p.inputZeroPoint;
                acc += xv * (p.weights[((o * cg + ci) * kh + ky) * kw + kx] - p.weightZeroPoint);
              }
          y[((n * m + o) * oh + oy) * ow + ox] = requantizerOf(p, o).apply(acc);
        }
  return y;
}

describe('conv2d against naive loops', () => {
  for (const mode of REQUANT_MODES)
    for (const k of CONV_CASES)
      it(`${mode}: ${k.name}`, () => {
        const r = rng(k.name.length * 31 + mode.length);
        const p = convParams(k, mode, r);
        const batch = 2;
        const x = int8s(r, batch * k.c * k.h * k.w);
        const y = new Int8Array(batch * p.outputShape[0] * p.outputShape[1] * p.outputShape[2]);
        conv2d(prepareConv2d(p), x, batch, y);
        const want = convReference(p, x, batch);
        expect(y).toEqual(want);
        expect(new Set(want).size).toBeGreaterThan(8); // the case exercises the output range, not one saturated value
      });
});

describe('fully connected (Gemm, MatMul) against naive loops', () => {
  for (const mode of REQUANT_MODES)
    // K 2000 of weights up to ±127: the packed sums are split where a lane could pass 2^25 (gemm.ts laneSafeSegments)
    for (const [rows, depth, units] of [[1, 5, 3], [33, 40, 13], [70, 17, 4], [5, 2000, 6]] as const)
      it(`${mode}: ${rows} rows × K ${depth} → ${units}`, () => {
        const r = rng(rows * 7 + depth + units);
        const [sx, sw] = [scaleIn(r, -4, -2), scaleIn(r, -6, -4)];
        const output = grid(Math.fround(sx * sw * 64 * 40 * Math.sqrt(depth)), int(r, -30, 30));
        const p = {
          depth, units, inputZeroPoint: int(r, -20, 20), weightZeroPoint: 0,
          weights: Int8Array.from({ length: units * depth }, () => int(r, -127, 127)),
          bias: Int32Array.from({ length: units }, () => int(r, -5000, 5000)),
          requantizer: prepareRequantizer(mode, { inputScale: sx, weightScale: sw, outputScale: output.scale, zeroPoint: output.zeroPoint, min: -128, max: 127 }),
        };
        const x = int8s(r, rows * depth);
        const y = new Int8Array(rows * units);
        fullyConnected(prepareFullyConnected(p), x, rows, y);
        const want = new Int8Array(rows * units);
        for (let n = 0; n < rows; n++)
          for (let o = 0; o < units; o++) {
            let acc = p.bias[o];
            for (let k = 0; k < depth; k++) acc += (x[n * depth + k] - p.inputZeroPoint) * p.weights[o * depth + k];
            want[n * units + o] = p.requantizer.apply(acc);
          }
        expect(y).toEqual(want);
      });
});

// ---------------------------------------------------------------------------------------------------------------
// Add and Mul: every pair of int8 operands, for several grid triples.

function tfliteAddRef(mode: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): (qa: number, qb: number) => number {
  const twiceMax = 2 * Math.max(a.scale, b.scale);
  const mbqm = mbqmRef(mode);
  const [ma, mb, my] = [quantizeMultiplier(a.scale / twiceMax), quantizeMultiplier(b.scale / twiceMax), quantizeMultiplier(twiceMax / (2 ** 20 * y.scale))];
  return (qa, qb) => {
    const sa = mbqm((qa - a.zeroPoint) * 2 ** 20, ma.multiplier, ma.shift);
    const sb = mbqm((qb - b.zeroPoint) * 2 ** 20, mb.multiplier, mb.shift);
    return clamp8(mbqm(sa + sb, my.multiplier, my.shift) + y.zeroPoint);
  };
}

type Span = 'both' | 'a-scalar' | 'b-scalar';
function onnxAddRef(span: Span, a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): (qa: number, qb: number) => number {
  const ra = f32Div(a.scale, y.scale);
  const rb = f32Div(b.scale, y.scale);
  const fixed = f32Add(y.zeroPoint, -f32Fma(ra, a.zeroPoint, f32Mul(rb, b.zeroPoint)));
  return (qa, qb) => {
    const v = span === 'b-scalar' ? f32Fma(qa, ra, f32Add(fixed, f32Mul(qb, rb)))
      : span === 'a-scalar' ? f32Fma(qb, rb, f32Add(fixed, f32Mul(qa, ra)))
      : f32Fma(qa, ra, f32Fma(qb, rb, fixed));
    return clamp8(rne(v));
  };
}

function tfliteMulRef(mode: 'tflite-double' | 'tflite-single', a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): (qa: number, qb: number) => number {
  const { multiplier, shift } = quantizeMultiplier((a.scale * b.scale) / y.scale);
  return (qa, qb) => clamp8(mbqmRef(mode)((qa - a.zeroPoint) * (qb - b.zeroPoint), multiplier, shift) + y.zeroPoint);
}

/** XNNPACK's qs8 multiply, which TFLite's delegate runs in the tflite-xnnpack and tflite-builtin modes (grids in its range). */
function xnnpackMulRef(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): (qa: number, qb: number) => number {
  const scale = f32Div(f32Mul(a.scale, b.scale), y.scale);
  return (qa, qb) => clamp8(rne(f32Mul((qa - a.zeroPoint) * (qb - b.zeroPoint), scale)) + y.zeroPoint);
}

function onnxMulRef(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): (qa: number, qb: number) => number {
  const scale = f32Div(f32Mul(a.scale, b.scale), y.scale);
  return (qa, qb) => clamp8(rne(f32Add(f32Mul((qa - a.zeroPoint) * (qb - b.zeroPoint), scale), y.zeroPoint)));
}

const GRID_TRIPLES = (seed: number): ActivationQuant[][] => {
  const r = rng(seed);
  const same = randomGrid(r);
  return [[same, same, same], [randomGrid(r), randomGrid(r), randomGrid(r)], [randomGrid(r, -3, -2), randomGrid(r, -6, -5), randomGrid(r, -3, -1)]];
};

describe('Add: every operand pair', () => {
  for (const mode of REQUANT_MODES)
    it(mode, () => {
      for (const [a, b, y] of GRID_TRIPLES(3))
        for (const span of ['both', 'a-scalar', 'b-scalar'] as const) {
          if (isTflite(mode) && span !== 'both') continue;
          const got = addElement(mode, span, a, b, y);
          const want = isTflite(mode) ? tfliteAddRef(tfliteBuild(mode)!, a, b, y) : onnxAddRef(span, a, b, y);
          for (let qa = -128; qa < 128; qa++) for (let qb = -128; qb < 128; qb++) if (got(qa, qb) !== want(qa, qb)) expect([qa, qb, got(qa, qb)]).toEqual([qa, qb, want(qa, qb)]);
        }
    });
});

describe('Mul: every operand pair', () => {
  for (const mode of REQUANT_MODES)
    it(mode, () => {
      for (const [a, b, y0] of GRID_TRIPLES(4)) {
        const y = grid(Math.fround(a.scale * b.scale * 90), y0.zeroPoint);
        const got = mulElement(mode, a, b, y);
        const delegated = mode === 'tflite-xnnpack' || mode === 'tflite-builtin';
        const want = delegated ? xnnpackMulRef(a, b, y) : isTflite(mode) ? tfliteMulRef(tfliteBuild(mode)!, a, b, y) : onnxMulRef(a, b, y);
        for (let qa = -128; qa < 128; qa++) for (let qb = -128; qb < 128; qb++) if (got(qa, qb) !== want(qa, qb)) expect([qa, qb, got(qa, qb)]).toEqual([qa, qb, want(qa, qb)]);
      }
    });
});

describe('numpy broadcasting of binary ops', () => {
  const cases: [number[], number[], number[], Span][] = [
    [[3, 4, 5], [3, 4, 5], [3, 4, 5], 'both'],
    [[3, 4, 5], [3, 1, 1], [3, 4, 5], 'b-scalar'],
    [[3, 1, 1], [3, 4, 5], [3, 4, 5], 'a-scalar'],
    [[1, 4, 5], [3, 4, 5], [3, 4, 5], 'both'],
    [[3, 4, 1], [1, 1, 5], [3, 4, 5], 'a-scalar'],
    [[2, 1], [2, 1], [2, 1], 'both'],
  ];
  for (const [sa, sb, so, span] of cases)
    it(`[N,${sa}] ⊕ [N,${sb}] → [N,${so}], span ${span}`, () => {
      const plan = broadcastPlan(sa, sb, so);
      expect(plan.span).toBe(span);
      const r = rng(sa.length + sb[0]);
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const batch = 2;
      const [a, b] = [int8s(r, batch * size(sa)), int8s(r, batch * size(sb))];
      const y = new Int8Array(batch * size(so));
      const pair = (qa: number, qb: number) => (qa * 7 + qb * 3) % 128; // any function that tells the operands apart
      runBinary(plan, pair, a, b, batch, y);
      const at = (s: number[], idx: number[]) => idx.reduce((off, i, k) => off * s[k] + (s[k] === 1 ? 0 : i), 0);
      for (let n = 0; n < batch; n++)
        for (let i = 0; i < size(so); i++) {
          const idx = so.map((_, k) => Math.floor(i / size(so.slice(k + 1))) % so[k]);
          expect(y[n * size(so) + i]).toBe(pair(a[n * size(sa) + at(sa, idx)], b[n * size(sb) + at(sb, idx)]));
        }
    });
});

// ---------------------------------------------------------------------------------------------------------------

describe('pools against naive loops', () => {
  const geometry = (c: number, h: number, w: number, win: Window2d, ceil: boolean) => ({
    channels: c, height: h, width: w,
    outHeight: windowOutput(h, win.kernel[0], win.strides[0], win.pads[0], win.pads[2], win.dilations[0], ceil) as number,
    outWidth: windowOutput(w, win.kernel[1], win.strides[1], win.pads[1], win.pads[3], win.dilations[1], ceil) as number,
  });
  const windows: [Window2d, boolean][] = [
    [{ kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] }, false],
    [{ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] }, false],
    [{ kernel: [3, 2], strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 1] }, true],
  ];
  for (const [win, ceil] of windows)
    it(`kernel ${win.kernel} stride ${win.strides} pads ${win.pads}${ceil ? ' ceil' : ''}`, () => {
      const r = rng(win.kernel[0] * 10 + win.pads[0]);
      const [batch, c, h, w] = [2, 3, 7, 8];
      const g = geometry(c, h, w, win, ceil);
      const x = int8s(r, batch * c * h * w);
      const zp = int(r, -50, 50);
      const [avg, avgPad, max] = [0, 0, 0].map(() => new Int8Array(batch * c * g.outHeight * g.outWidth));
      averagePool2d(g, win, false, zp, x, batch, avg);
      averagePool2d(g, win, true, zp, x, batch, avgPad);
      maxPool2d(g, win, x, batch, max);
      const roundedQuotient = (sum: number, count: number) => {
        const magnitude = Math.floor((2 * Math.abs(sum) + count) / (2 * count)); // |sum|/count, ties away from zero
        return sum < 0 ? 0 - magnitude : magnitude; // 0 − 0 is +0, like the int8 output
      };
      let o = 0;
      for (let plane = 0; plane < batch * c; plane++)
        for (let oy = 0; oy < g.outHeight; oy++)
          for (let ox = 0; ox < g.outWidth; ox++, o++) {
            let [sum, count, centred, padCount, best] = [0, 0, 0, 0, -Infinity];
            for (let ky = 0; ky < win.kernel[0]; ky++)
              for (let kx = 0; kx < win.kernel[1]; kx++) {
                const [iy, ix] = [oy * win.strides[0] - win.pads[0] + ky, ox * win.strides[1] - win.pads[1] + kx];
                if (iy >= -win.pads[0] && iy < h + win.pads[2] && ix >= -win.pads[1] && ix < w + win.pads[3]) padCount++;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const v = x[(plane * h + iy) * w + ix];
                sum += v;
                centred += v - zp;
                count++;
                best = Math.max(best, v);
              }
            expect([avg[o], avgPad[o], max[o]]).toEqual([roundedQuotient(sum, count), roundedQuotient(centred, padCount) + zp, best]);
          }
    });
});

describe('GlobalAveragePool: the mean requantized by the mode', () => {
  for (const mode of REQUANT_MODES)
    it(mode, () => {
      const r = rng(mode.length * 13);
      for (const [h, w] of [[5, 25], [8, 8], [7, 7], [1, 3]]) {
        const [input, output] = [randomGrid(r), randomGrid(r)];
        const x = int8s(r, 6 * h * w);
        const y = new Int8Array(6);
        globalAveragePool(meanRequantizer(mode, input, output, h * w), input.zeroPoint, h * w, x, 6, y);
        for (let c = 0; c < 6; c++) {
          let acc = 0;
          for (let i = 0; i < h * w; i++) acc += x[c * h * w + i] - input.zeroPoint;
          let want: number;
          if (mode === 'tflite-builtin') {
            // TFLite's optimized int8 MEAN: the raw sum, a bias rounded in float, the default build's two roundings.
            const c = f32Div(f32Mul(input.zeroPoint, input.scale), output.scale);
            const bias = output.zeroPoint - Math.trunc(c > 0 ? f32Add(c, 0.5) : f32Add(c, -0.5));
            const { multiplier, shift } = quantizeMultiplier(f32Div(input.scale, f32Mul(h * w, output.scale)));
            want = clamp8(mbqmRef('tflite-double')(acc + input.zeroPoint * h * w, multiplier, shift) + bias);
          } else if (isTflite(mode)) {
            const { multiplier, shift } = quantizeMultiplier(input.scale / (output.scale * h * w));
            want = clamp8(mbqmRef(tfliteBuild(mode)!)(acc, multiplier, shift) + output.zeroPoint);
          } else {
            const scale = mode === 'onnx' ? f32Div(input.scale, f32Mul(output.scale, h * w)) : f32Div(input.scale, output.scale * h * w);
            want = clamp8(rne(f32Mul(acc, scale)) + output.zeroPoint);
          }
          expect(y[c]).toBe(want);
        }
      }
    });
});

describe('activation tables', () => {
  const r = rng(21);
  const pairs = Array.from({ length: 6 }, () => [randomGrid(r, -4, -2), randomGrid(r, -4, -2)] as const);

  it('tflite Relu/Clip: TFLite RELU fixed point, bounds from the op', () => {
    for (const mode of ['tflite-double', 'tflite-single'] as const)
      for (const [x, y] of pairs)
        for (const [lo, hi] of [[0, Infinity], [0, 6], [-1, 1], [-Infinity, 0.5]]) {
          const { multiplier, shift } = quantizeMultiplier(x.scale / y.scale);
          const bound = (v: number, none: number) => (Number.isFinite(v) ? y.zeroPoint + roundAway(f32Div(v, y.scale)) : none);
          const [min, max] = [Math.max(-128, bound(lo, -128)), Math.min(127, bound(hi, 127))];
          const want = Int8Array.from({ length: 256 }, (_, i) => Math.min(max, Math.max(min, clamp8(mbqmRef(mode)(i - 128 - x.zeroPoint, multiplier, shift) + y.zeroPoint))));
          expect(tfliteReluTable(mode, lo, hi, x, y)).toEqual(want);
        }
  });

  it('onnx Relu/Clip: DequantizeLinear, clamp, QuantizeLinear', () => {
    for (const [x, y] of pairs)
      for (const [lo, hi] of [[0, Infinity], [0, 6], [-1, 1]]) {
        const want = Int8Array.from({ length: 256 }, (_, i) => {
          const v = Math.min(Math.fround(hi), Math.max(Math.fround(lo), f32Mul(i - 128 - x.zeroPoint, x.scale)));
          return clamp8(rne(f32Div(v, y.scale)) + y.zeroPoint);
        });
        expect(floatTable(clipTo(lo, hi), x, gridQuantizer('onnx', y))).toEqual(want);
      }
  });

  it('tflite float tables: LUTPopulateInt8 (multiply by the float32 reciprocal, round half away)', () => {
    for (const [x, y] of pairs) {
      const want = Int8Array.from({ length: 256 }, (_, i) =>
        clamp8(roundAway(f32Mul(hardSwishTflite(f32Mul(x.scale, i - 128 - x.zeroPoint)), f32Div(1, y.scale))) + y.zeroPoint));
      expect(floatTable(hardSwishTflite, x, tfliteTableQuantizer(y))).toEqual(want);
    }
  });

  it('hard-sigmoid and hard-swish in float32 steps', () => {
    for (const v of [-4, -3, -1.5, 0, 0.7, 2.9, 3, 5]) {
      const x = Math.fround(v);
      const gate = Math.min(1, Math.max(0, f32Add(f32Mul(Math.fround(1 / 6), x), 0.5)));
      expect(hardSigmoid(1 / 6, 0.5)(x)).toBe(gate);
      expect(hardSwishOnnx(x) + 0).toBe(f32Mul(x, gate)); // + 0: −0 and +0 quantize alike
      expect(hardSwishTflite(x) + 0).toBe(f32Div(f32Mul(x, Math.min(6, Math.max(0, f32Add(x, 3)))), 6));
    }
  });
});

describe('softmax and concat', () => {
  it('softmax: dequantize, float softmax, the mode rounding onto [0, 1) at 1/256', () => {
    const r = rng(8);
    const [x, y] = [randomGrid(r, -3, -1), grid(1 / 256, -128)];
    const [outer, length, inner, batch] = [2, 5, 3, 2];
    const q = int8s(r, batch * outer * length * inner);
    for (const mode of REQUANT_MODES) {
      const got = new Int8Array(q.length);
      softmax({ outer, length, inner }, x, gridQuantizer(mode, y), q, batch, got, new Float64Array(length));
      for (let o = 0; o < batch * outer; o++)
        for (let i = 0; i < inner; i++) {
          const at = (k: number) => (o * length + k) * inner + i;
          const v = Array.from({ length }, (_, k) => f32Mul(x.scale, q[at(k)] - x.zeroPoint));
          const e = v.map((t) => Math.exp(t - Math.max(...v)));
          const sum = e.reduce((s, t) => s + t, 0);
          for (let k = 0; k < length; k++) expect(got[at(k)]).toBe(clamp8((isTflite(mode) ? roundAway : rne)(f32Div(Math.fround(e[k] / sum), y.scale)) - 128));
        }
    }
  });

  it('concat: copies inputs on the output grid, rescales the others by the mode rule', () => {
    const r = rng(9);
    const out = randomGrid(r);
    const other = randomGrid(r);
    for (const mode of REQUANT_MODES) {
      expect(rescaleTable(mode, out, out)).toBeUndefined();
      const table = rescaleTable(mode, other, out)!;
      for (let q = -128; q < 128; q++) {
        // The TFLite interpreters' modes: XNNPACK's qs8 convert (QUANTIZE int8 → int8, an 8-bit fixed-point multiplier).
        const cvt = Math.round(256 * f32Div(other.scale, out.scale));
        const want = mode === 'tflite-builtin' || mode === 'tflite-xnnpack'
          ? Math.floor((out.zeroPoint * 256 + 0x80 + (q - other.zeroPoint) * cvt) / 256)
          : isTflite(mode)
          ? (() => {
              const scale = f32Mul(other.scale, f32Div(1, out.scale));
              return roundAway(f32Add(f32Mul(q, scale), f32Mul(-other.zeroPoint, scale))) + out.zeroPoint;
            })()
          : rne(f32Div(f32Mul(q - other.zeroPoint, other.scale), out.scale)) + out.zeroPoint;
        expect(table[q + 128]).toBe(clamp8(want));
      }
      // [N, 2, 3] ⧺ [N, 1, 3] along axis 1, batch 2.
      const [a, b] = [int8s(r, 12), int8s(r, 6)];
      const y = new Int8Array(18);
      concat([{ chunk: 6 }, { chunk: 3, table }], 1, [a, b], 2, y);
      expect(Array.from(y)).toEqual([...a.slice(0, 6), ...Array.from(b.slice(0, 3), (v) => table[v + 128]), ...a.slice(6), ...Array.from(b.slice(3), (v) => table[v + 128])]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The onnx-mode contracts against onnxruntime-node: QDQ models that ORT fuses into QLinearAdd / QLinearMul /
// QLinearGlobalAveragePool, or runs as DequantizeLinear → float op → QuantizeLinear.

const { onnx } = pkg;

function scalarInit(name: string, float: boolean, v: number): pkg.onnx.ITensorProto {
  return { name, dataType: float ? 1 : 3, dims: [], rawData: new Uint8Array((float ? Float32Array.of(v) : Int8Array.of(v)).buffer) };
}
function int8Value(name: string, dims: number[], elemType = 3): pkg.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** DQ(inputs) → op → Q, with the given grids. */
async function runQdq(op: string, grids: ActivationQuant[], output: ActivationQuant, inputs: { data: Int8Array; dims: number[] }[], outDims: number[], attribute: pkg.onnx.IAttributeProto[] = []): Promise<Int8Array> {
  const names = inputs.map((_, i) => `x${i}`);
  const graph: pkg.onnx.IGraphProto = {
    name: 'qdq',
    input: inputs.map((x, i) => int8Value(`X${i}`, x.dims)),
    output: [int8Value('Y', outDims)],
    initializer: [
      ...grids.flatMap((g, i) => [scalarInit(`s${i}`, true, g.scale), scalarInit(`z${i}`, false, g.zeroPoint)]),
      scalarInit('sy', true, output.scale), scalarInit('zy', false, output.zeroPoint),
    ],
    node: [
      ...names.map((n, i) => ({ opType: 'DequantizeLinear', input: [`X${i}`, `s${i}`, `z${i}`], output: [n] })),
      { opType: op, input: names, output: ['y'], attribute },
      { opType: 'QuantizeLinear', input: ['y', 'sy', 'zy'], output: ['Y'] },
    ],
  };
  const model = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph })).finish();
  const session = await ort.InferenceSession.create(model);
  const feeds = Object.fromEntries(inputs.map((x, i) => [`X${i}`, new ort.Tensor('int8', x.data, x.dims)]));
  const y = (await session.run(feeds)).Y.data as Int8Array;
  await session.release();
  return y;
}

describe('onnx mode is bit-exact with onnxruntime-node', () => {
  it('Add (QLinearAdd): both spanning, b per span, a per span', async () => {
    const r = rng(31);
    for (let t = 0; t < 12; t++) {
      const [a, b] = [randomGrid(r, -4, -2), randomGrid(r, -4, -2)];
      const y = grid(Math.fround(Math.max(a.scale, b.scale) * Math.exp(r() * 1.5 - 0.2)), int(r, -128, 127));
      const [full, small] = [[1, 16, 32, 32], [1, 16, 1, 1]];
      const [da, db] = t % 3 === 0 ? [full, full] : t % 3 === 1 ? [full, small] : [small, full];
      const size = (d: number[]) => d.reduce((x, z) => x * z, 1);
      const [xa, xb] = [int8s(r, size(da)), int8s(r, size(db))];
      const want = await runQdq('Add', [a, b], y, [{ data: xa, dims: da }, { data: xb, dims: db }], full);
      const plan = broadcastPlan(da.slice(1), db.slice(1), full.slice(1));
      const got = new Int8Array(size(full));
      runBinary(plan, addElement('onnx', plan.span, a, b, y), xa, xb, 1, got);
      expect(got).toEqual(want);
    }
  });

  it('Mul (QLinearMul) with the squeeze-and-excitation broadcast', async () => {
    const r = rng(32);
    for (let t = 0; t < 8; t++) {
      const [a, b] = [randomGrid(r, -4, -2), randomGrid(r, -4, -2)];
      const y = grid(Math.fround(a.scale * b.scale * 128 * Math.exp(r() * 2 - 0.5)), int(r, -128, 127));
      const [full, small] = [[1, 16, 32, 32], [1, 16, 1, 1]];
      const db = t % 2 ? small : full;
      const [xa, xb] = [int8s(r, 16 * 1024), int8s(r, db === full ? 16 * 1024 : 16)];
      const want = await runQdq('Mul', [a, b], y, [{ data: xa, dims: full }, { data: xb, dims: db }], full);
      const plan = broadcastPlan(full.slice(1), db.slice(1), full.slice(1));
      const got = new Int8Array(16 * 1024);
      runBinary(plan, mulElement('onnx', a, b, y), xa, xb, 1, got);
      expect(got).toEqual(want);
    }
  });

  it('GlobalAveragePool (QLinearGlobalAveragePool)', async () => {
    const r = rng(33);
    for (let t = 0; t < 20; t++) {
      const [h, w] = [int(r, 1, 9), int(r, 1, 9)];
      const x = randomGrid(r, -4, -2);
      const y = grid(Math.fround(x.scale * Math.exp(r() - 0.8)), int(r, -128, 127));
      const data = int8s(r, 16 * h * w);
      const want = await runQdq('GlobalAveragePool', [x], y, [{ data, dims: [1, 16, h, w] }], [1, 16, 1, 1]);
      const got = new Int8Array(16);
      globalAveragePool(meanRequantizer('onnx', x, y, h * w), x.zeroPoint, h * w, data, 16, got);
      expect(got).toEqual(want);
    }
  });

  it('Relu, HardSigmoid, HardSwish, LeakyRelu, Tanh, Elu tables (DequantizeLinear → op → QuantizeLinear)', async () => {
    const r = rng(34);
    const all = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    const f = (v: number) => ({ name: '', type: 1, f: v });
    const ops: [string, pkg.onnx.IAttributeProto[], (v: number) => number][] = [
      ['Relu', [], clipTo(0, Infinity)],
      ['HardSigmoid', [{ ...f(0.2), name: 'alpha' }, { ...f(0.5), name: 'beta' }], hardSigmoid(0.2, 0.5)],
      ['HardSwish', [], hardSwishOnnx],
      ['LeakyRelu', [{ ...f(0.1), name: 'alpha' }], leakyRelu(0.1)],
      ['Tanh', [], tanh],
      ['Elu', [{ ...f(0.7), name: 'alpha' }], elu(0.7)],
    ];
    for (const [op, attrs, fn] of ops)
      for (let t = 0; t < 10; t++) {
        const [x, y] = [randomGrid(r, -5, -2), randomGrid(r, -6, -3)];
        const want = await runQdq(op, [x], y, [{ data: all, dims: [1, 256] }], [1, 256], attrs);
        expect(floatTable(fn, x, gridQuantizer('onnx', y))).toEqual(want);
      }
  });

  it('QuantizeLinear of the graph input', async () => {
    const r = rng(35);
    const g = grid(Math.fround(0.0173), -7);
    const xs = Float32Array.from({ length: 20000 }, (_, i) => (i % 2 ? Math.fround((int(r, -300, 300) + 0.5) * g.scale) : Math.fround((r() - 0.5) * 5)));
    const graph: pkg.onnx.IGraphProto = {
      name: 'q',
      input: [int8Value('X', [1, xs.length], 1)],
      output: [int8Value('Y', [1, xs.length])],
      initializer: [scalarInit('s', true, g.scale), scalarInit('z', false, g.zeroPoint)],
      node: [{ opType: 'QuantizeLinear', input: ['X', 's', 'z'], output: ['Y'] }],
    };
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish());
    const want = (await session.run({ X: new ort.Tensor('float32', xs, [1, xs.length]) })).Y.data as Int8Array;
    await session.release();
    expect(quantizeTensor('onnx', g, xs)).toEqual(want);
  });
});
