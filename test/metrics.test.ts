import { describe, expect, it } from 'vitest';
import { AgreementAccumulator, argmaxRows, topKAccuracy } from '../src/metrics.js';

describe('metrics', () => {
  it('counts a tie as a hit only when argmax would pick the label (int8 logits tie often)', () => {
    const tied = Float32Array.of(0.5, 0.9, 0.9, 0.1);
    expect(topKAccuracy([tied], [1]).top1).toBe(1);
    expect(topKAccuracy([tied], [2]).top1).toBe(0);
    expect(argmaxRows(tied, 1)[0]).toBe(1);
    expect(topKAccuracy([Float32Array.of(6, 5, 4, 3, 2, 1)], [4]).top5).toBe(1);
    expect(topKAccuracy([Float32Array.of(6, 5, 4, 3, 2, 1)], [5]).top5).toBe(0);
  });

  it('SQNR, cosine and max |err| of an approximation', () => {
    const acc = new AgreementAccumulator();
    acc.add(Float32Array.of(3, 4), Float32Array.of(3, 3));
    const s = acc.stats();
    expect(s.sqnrDb).toBeCloseTo(10 * Math.log10(25 / 1), 10);
    expect(s.cosine).toBeCloseTo(21 / (5 * Math.sqrt(18)), 10);
    expect(s.maxAbsError).toBe(1);
  });
});
