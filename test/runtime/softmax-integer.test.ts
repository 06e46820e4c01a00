// The tflite-double and tflite-single softmax: TFLite-Micro's integer softmax. Golden outputs from TFLite-Micro's reference_ops::Softmax
// and Prepare transcribed onto gemmlowp's own fixedpoint.h (compiled with g++; it agreed with this runtime on 20,000
// random slices), the fixed-point exp and reciprocal against Math, the result within one step of the float softmax,
// and every other mode unchanged.

import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/ir/graph.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { mulberry32 } from '../../src/random.js';
import type { KernelContext } from '../../runtime/kernels/registry.js';
import {
  expOnNegativeValues,
  fixedPointSoftmax,
  oneOverOnePlusX,
  ortSoftmax,
  ortSoftmaxTable,
  prepareFixedPointSoftmax,
  softmax,
  softmaxKernel,
} from '../../runtime/kernels/softmax.js';
import { gridQuantizer } from '../../runtime/quantize-input.js';
import { REQUANT_MODES, type RequantMode } from '../../runtime/requant/index.js';

const UNIT8: ActivationQuant = { scale: 1 / 256, zeroPoint: -128, bits: 8, qmin: -128, qmax: 127 };
const inputGrid = (scale: number): ActivationQuant => ({ scale: Math.fround(scale), zeroPoint: 3, bits: 8, qmin: -128, qmax: 127 });
const never = (what: string): never => {
  throw new Error(what);
};

/** One slice through the integer softmax. */
function integerSoftmax(scale: number, x: readonly number[], output: ActivationQuant = UNIT8): number[] {
  const p = prepareFixedPointSoftmax(inputGrid(scale), output, never);
  const y = new Int8Array(x.length);
  fixedPointSoftmax({ outer: 1, length: x.length, inner: 1 }, p, Int8Array.from(x), 1, y);
  return Array.from(y);
}

/** [input scale, input, TFLite-Micro's output]. */
const GOLDEN: readonly (readonly [number, readonly number[], readonly number[]])[] = [
  [0.1, [1, 2, 3], [-51, -43, -34]],
  [0.0625, [127, 126, 120, 100, 64, 0, -64, -100, -127, -128], [-36, -42, -69, -111, -126, -128, -128, -128, -128, -128]],
  [0.00390625, [-5, 3, 7, 7, -128, 127, 0, 1, 2, 3, 4, 5], [-108, -107, -107, -107, -115, -94, -107, -107, -107, -107, -107, -107]],
  [0.5, [10, 9, 8, 4, -20, -128], [-2, -51, -81, -122, -128, -128]],
  [0.0001, [127, -128, 0, 50], [-63, -65, -64, -64]],
  [1.75, [3, 2, 1, 0, -1], [84, -91, -122, -127, -128]],
  [0.02, [-100, -90, -80, -70, -60, -50, -40, -30], [-114, -110, -107, -102, -96, -89, -80, -70]],
  [40, [5, 4, 3, -128], [127, -128, -128, -128]], // the multiplier capped at 2^31 − 1
  [0.000001, [127, -128, 0], [-43, -43, -43]],
  [0.3, [-7], [127]],
  [0.125, Array(16).fill(9), Array(16).fill(-112)],
  [0.05,
    [24, -52, 10, 124, 44, 7, 94, 106, -109, 127, -75, -79, 126, -113, -30, -121, -110, 44, 108, 79, 61, -112, 30, -2, -76, 100, -111, 77, -91, -122, 55, 61, 92, 81, 85, 62, -119, -42, -90, 40],
    [-128, -128, -128, -82, -127, -128, -118, -109, -128, -74, -128, -128, -77, -128, -128, -128, -128, -127, -107, -123, -126, -128, -128, -128, -128, -114, -128, -124, -128, -128, -127, -126, -119, -123, -121, -126, -128, -128, -128, -127]],
];

describe('integer softmax (tflite-double): TFLite-Micro bit for bit', () => {
  it('gives TFLite-Micro\'s bytes on the golden slices', () => {
    for (const [scale, x, want] of GOLDEN) expect(integerSoftmax(scale, x), `scale ${scale}`).toEqual(want);
  });

  it('prepares TFLite-Micro\'s constants: multiplier of sx·2^26, diff_min = −floor(31·2^26 / 2^shift)', () => {
    const p = prepareFixedPointSoftmax(inputGrid(1 / 16), UNIT8, never);
    expect([p.inputMultiplier, p.inputLeftShift, p.diffMin]).toEqual([2 ** 30, 23, -248]);
    expect(prepareFixedPointSoftmax(inputGrid(1e6), UNIT8, never)).toMatchObject({ inputMultiplier: 2 ** 31 - 1, inputLeftShift: 31, diffMin: 0 });
  });

  it('exp_on_negative_values is exp to 2^-25 over [-32, 0], and exactly one at 0', () => {
    expect(expOnNegativeValues(0)).toBe(2 ** 31 - 1);
    for (let a = -(32 * 2 ** 26); a < 0; a += 2 ** 26 / 8 + 12345) expect(Math.abs(expOnNegativeValues(a) / 2 ** 31 - Math.exp(a / 2 ** 26))).toBeLessThan(2 ** -25);
  });

  it('one_over_one_plus_x is 1/(1 + x) to 2^-28 over [0, 1)', () => {
    for (let x = 0; x < 2 ** 31; x += 2 ** 31 / 1000 + 777) expect(Math.abs(oneOverOnePlusX(x) / 2 ** 31 - 1 / (1 + x / 2 ** 31))).toBeLessThan(2 ** -28);
  });

  it('is within one step of the float softmax on 8-bit and 4-bit unit grids', () => {
    const r = mulberry32(11);
    for (const bits of [8, 4]) {
      const output: ActivationQuant = { scale: Math.fround(2 ** -bits), zeroPoint: -(2 ** (bits - 1)), bits, qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
      for (let n = 0; n < 300; n++) {
        const scale = Math.fround(Math.exp(-7 + 7 * r()));
        const x = Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256) - 128);
        const got = integerSoftmax(scale, x, output);
        const v = x.map((q) => Math.fround(scale * (q - 3)));
        const e = v.map((t) => Math.exp(t - Math.max(...v)));
        const sum = e.reduce((s, t) => s + t, 0);
        e.forEach((t, k) => expect(Math.abs(got[k] - Math.min(output.qmax, Math.round((t / sum) * 2 ** bits) + output.zeroPoint))).toBeLessThanOrEqual(1));
      }
    }
  });

  it('gives qmin where the quotient falls below half a step (a long slice of equal values, where TFLite-Micro aborts)', () => {
    expect(new Set(integerSoftmax(0.1, Array(1000).fill(5)))).toEqual(new Set([-128]));
  });

  it('refuses an output grid other than the unit grid, naming it', () => {
    expect(() => prepareFixedPointSoftmax(inputGrid(0.1), { ...UNIT8, scale: 1 / 128 }, never)).toThrow(/output grid scale 0.0078125, zero point -128; the integer softmax writes the unit grid/);
  });
});

describe('softmax kernel per mode', () => {
  const node: Node = { name: 'sm', op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } };
  const shape = [5, 3]; // softmax over 5 values, 3 apart
  const x = inputGrid(0.07);
  const context = (mode: RequantMode): KernelContext => ({
    mode, node, where: 'test: node \'sm\' (Softmax)', inputShape: () => shape, isConstant: () => false, outputShape: shape, inputGrid: () => x, outputGrid: UNIT8,
    weight: () => never('no weight'), bias: () => undefined, unsupported: never,
  });
  const r = mulberry32(5);
  const q = Int8Array.from({ length: 2 * 15 }, () => Math.floor(r() * 256) - 128);
  const layout = { outer: 1, length: 5, inner: 3 };

  it.each(['tflite-double', 'tflite-single'] as const)('%s runs the integer softmax on every slice of the layout', (mode) => {
    const got = new Int8Array(q.length);
    softmaxKernel(context(mode))([q], 2, got);
    const want = new Int8Array(q.length);
    fixedPointSoftmax(layout, prepareFixedPointSoftmax(x, UNIT8, never), q, 2, want);
    expect(got).toEqual(want);
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 3; i++) {
        const at = (k: number) => b * 15 + k * 3 + i;
        expect(Array.from({ length: 5 }, (_, k) => got[at(k)])).toEqual(integerSoftmax(0.07, Array.from({ length: 5 }, (_, k) => q[at(k)])));
      }
  });

  it('every other mode keeps its rule (float softmax with the mode rounding; onnx: QLinearSoftmax)', () => {
    for (const mode of REQUANT_MODES.filter((m) => m !== 'tflite-double' && m !== 'tflite-single')) {
      const got = new Int8Array(q.length);
      softmaxKernel(context(mode))([q], 2, got);
      const want = new Int8Array(q.length);
      if (mode === 'onnx') ortSoftmax(layout, ortSoftmaxTable(x.scale, 5), UNIT8, q, 2, want);
      else softmax(layout, x, gridQuantizer(mode, UNIT8), q, 2, want, new Float64Array(5));
      expect(got, mode).toEqual(want);
    }
  });
});
