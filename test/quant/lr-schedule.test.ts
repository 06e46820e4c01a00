// The learning rate of reconstruction: the cosine factor's values, that Adam's step scales with it, and FlexRound's
// rate per weight width (the 8-bit first and last layers of a 4-bit run).
import { describe, expect, it } from 'vitest';
import { quantize } from '../../src/index.js';
import { Adam } from '../../src/quant/adam.js';
import { createFlexRound } from '../../src/quant/flexround.js';
import { lrFactor } from '../../src/quant/lr-schedule.js';
import { quantizeWeightRtn } from '../../src/quant/weight-grid.js';
import { matrixLayout } from '../../src/quant/weight-quantizer.js';

describe('learning-rate schedule', () => {
  it('cosine decays from 1 through ½ at mid-budget towards 0; constant stays 1', () => {
    expect(lrFactor('cosine', 0, 100)).toBe(1);
    expect(lrFactor('cosine', 50, 100)).toBeCloseTo(0.5, 15);
    expect(lrFactor('cosine', 99, 100)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 99) / 100)), 15);
    expect(lrFactor('cosine', 99, 100)).toBeLessThan(2.5e-4);
    expect(lrFactor('constant', 99, 100)).toBe(1);
  });

  it("Adam's first step moves a parameter by lr × the factor (bias-corrected m/√v is ±1 at step one)", () => {
    const moved = (scale: number) => {
      const p = Float64Array.of(1, -2);
      new Adam([p], 0.01).step([Float64Array.of(3, -0.5)], scale);
      return [...p];
    };
    expect(moved(1)[0]).toBeCloseTo(1 - 0.01, 9);
    expect(moved(1)[1]).toBeCloseTo(-2 + 0.01, 9);
    expect(moved(0.5)[0]).toBeCloseTo(1 - 0.005, 9);
    expect(moved(0)).toEqual([1, -2]);
  });

  it("FlexRound's layers wider than a 3- to 8-bit run's learn at their width's rate, and Adam applies it per array", () => {
    const w = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) / 4);
    const flexRound = (bits: number, rateBits: number) =>
      createFlexRound({ w, shape: [4, 6], layout: matrixLayout([4, 6], 0), rtn: quantizeWeightRtn(w, [4, 6], bits), iterations: 10, rateBits });
    expect(flexRound(8, 4).rateScale).toBe(1 / 16);
    expect(flexRound(4, 4).rateScale).toBe(1);
    expect(flexRound(8, 3).rateScale).toBe(1 / 16);
    expect(flexRound(8, 2).rateScale).toBe(1);
    expect(flexRound(8, 8).rateScale).toBe(1);
    expect(flexRound(4, 8).rateScale).toBe(16);
    const [a, b] = [Float64Array.of(0), Float64Array.of(0)];
    new Adam([a, b], 0.01, [1, 1 / 16]).step([Float64Array.of(1), Float64Array.of(1)]);
    expect(a[0]).toBeCloseTo(-0.01, 9);
    expect(b[0]).toBeCloseTo(-0.01 / 16, 9);
  });

  it('an unknown schedule is refused before any work, naming the allowed ones', async () => {
    await expect(quantize('model.onnx', { calib: 'none', method: 'flexround', lrSchedule: 'linear' as never })).rejects.toThrow(/lrSchedule linear: expected one of constant, cosine/);
  });
});
