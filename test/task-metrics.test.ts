// Mask IoU by hand-counted pixels: the per-image mean (1 where both masks are empty), the pooled figure, the mean over
// large float masks, and how many empty float masks stay empty.
import { describe, expect, it } from 'vitest';
import { MaskIouAccumulator } from '../src/task-metrics.js';

describe('MaskIouAccumulator', () => {
  it('splits the mean IoU by float mask size and counts the empty float masks kept empty', () => {
    // Four images of 40 pixels each: a large mask half found, a 1-pixel mask missed, an empty mask kept, an empty mask
    // with 2 false pixels.
    const reference = new Float32Array(160);
    const approx = new Float32Array(160);
    reference.fill(0.9, 0, 4); // image 0: float mask 4 pixels (10 %)
    approx.fill(0.9, 0, 2);
    reference[40] = 0.9; // image 1: 1 pixel (2.5 %), missed
    approx.fill(0.6, 120, 122); // image 3: empty float mask, 2 false pixels
    const acc = new MaskIouAccumulator();
    acc.add(reference.subarray(0, 80), approx.subarray(0, 80), 2);
    acc.add(reference.subarray(80), approx.subarray(80), 2);
    const s = acc.stats();
    expect(s.count).toBe(4);
    expect(s.maskIou).toBeCloseTo((0.5 + 0 + 1 + 0) / 4, 12);
    expect(s.pooledMaskIou).toBeCloseTo(2 / (4 + 1 + 2), 12);
    expect([s.largeMaskIou, s.largeMaskCount]).toEqual([0.5, 1]);
    expect([s.emptyMaskCount, s.emptyMaskKept]).toEqual([2, 1]);
  });
});
