// The learning-rate schedule of reconstruction: the cosine factor's values, and that Adam's step scales with it.
import { describe, expect, it } from 'vitest';
import { quantize } from '../../src/index.js';
import { Adam } from '../../src/quant/adam.js';
import { lrFactor } from '../../src/quant/lr-schedule.js';

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

  it('an unknown schedule is refused before any work, naming the allowed ones', async () => {
    await expect(quantize('model.onnx', { calib: 'none', method: 'flexround', lrSchedule: 'linear' as never })).rejects.toThrow(/lrSchedule linear: expected one of constant, cosine/);
  });
});
