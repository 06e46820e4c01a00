// The observers' value sample is uniform over everything observed: no position of a batch's layout is favoured
// (a fixed stride kept only the left image column of 128-wide maps), and later batches count as much as the first.
import { describe, expect, it } from 'vitest';
import { OBSERVERS, Reservoir } from '../../calibration/observers.js';

describe('observer value sample', () => {
  it('keeps a uniform sample of a stream larger than the reservoir, in every decile and every column', () => {
    const reservoir = new Reservoir(4096, 1);
    const total = 1_000_000;
    // Batches of a 128-wide layout, the last one short: value = stream index.
    for (let start = 0; start < total; start += 128 * 512) reservoir.add(Float32Array.from({ length: Math.min(128 * 512, total - start) }, (_, i) => start + i));
    const sample = reservoir.sample();
    expect(sample.length).toBe(4096);
    const deciles = new Array<number>(10).fill(0);
    const columns = new Array<number>(4).fill(0);
    for (const v of sample) {
      deciles[Math.floor((v / total) * 10)]++;
      columns[Math.floor((v % 128) / 32)]++;
    }
    // Binomial(4096, 0.1) has a standard deviation of 19; (4096, 0.25) of 28: five of them either way.
    for (const d of deciles) expect(Math.abs(d - 409.6)).toBeLessThan(100);
    for (const c of columns) expect(Math.abs(c - 1024)).toBeLessThan(140);
  });

  it('percentile: a hot right column moves the range (a stride that saw column 0 alone missed it)', () => {
    const observer = OBSERVERS.percentile();
    // 4 batches of [8,16,128,128]: 1 everywhere, 100 in column 127 (1/128 of the values, above the 99.99 % point).
    const batch = Float32Array.from({ length: 8 * 16 * 128 * 128 }, (_, i) => (i % 128 === 127 ? 100 : 1));
    for (let k = 0; k < 4; k++) observer.observe(batch);
    expect(observer.range(8)).toEqual([1, 100]);
  });
});
