// The report's error histograms count (approx − reference) in steps of the layer's grid, the ends clamped.
import { describe, expect, it } from 'vitest';
import { ERROR_HISTOGRAM, ErrorHistogram } from '../../src/metrics.js';

describe('ErrorHistogram', () => {
  it('puts each error in its half-step bin, and everything beyond ±8 steps in the end bins', () => {
    const h = new ErrorHistogram(0.5);
    // In steps of 0.5: 0.2, −0.6, 4, 200, −30, 0.
    h.add(new Float32Array([0, 0, 0, 0, 0, 1]), new Float32Array([0.1, -0.3, 2, 100, -15, 1]));
    const expected = new Array<number>(ERROR_HISTOGRAM.bins).fill(0);
    for (const bin of [16, 14, 24, 31, 0, 16]) expected[bin]++;
    expect(h.counts).toEqual(expected);
  });
});
