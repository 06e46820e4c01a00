import type { ObserverFactory, RangeObserver } from '../src/quant/calibrate.js';
import { mulberry32, type Random } from '../src/random.js';
import { activationQuant } from '../src/quant/schemes.js';

export type ObserverKind = 'minmax' | 'mse' | 'percentile';

/**
 * Values kept per activation for the MSE and percentile searches: a uniform sample of every value observed (Li's
 * reservoir "Algorithm L", seeded, so the same data gives the same grids). A fixed stride would alias with the layout:
 * every 1024th value of a [N,16,128,128] batch is always column 0, the image's left edge.
 */
const CAPACITY = 1 << 18;
const SAMPLE_SEED = 0x5eed;

/** A uniform sample of at most `capacity` of the values streamed through `add`, skipping ahead instead of drawing per value. */
export class Reservoir {
  readonly values: Float32Array;
  private seen = 0;
  private kept = 0;
  private readonly random: Random;
  /** Running factor of Algorithm L, and the stream index of the next value to keep once the reservoir is full. */
  private w: number;
  private next: number;

  constructor(private readonly capacity: number, seed: number) {
    this.values = new Float32Array(capacity);
    this.random = mulberry32(seed);
    this.w = Math.exp(Math.log(this.uniform()) / capacity);
    this.next = capacity + this.skip();
  }

  add(batch: Float32Array): void {
    const start = this.seen;
    for (let i = 0; i < batch.length && this.kept < this.capacity; i++) this.values[this.kept++] = batch[i];
    this.seen += batch.length;
    while (this.next < this.seen) {
      this.values[Math.floor(this.uniform() * this.capacity)] = batch[this.next - start];
      this.w *= Math.exp(Math.log(this.uniform()) / this.capacity);
      this.next += 1 + this.skip();
    }
  }

  sample(): Float32Array {
    return this.values.slice(0, this.kept);
  }

  /** In (0, 1): logarithms of it stay finite. */
  private uniform(): number {
    return this.random() || Number.MIN_VALUE;
  }

  private skip(): number {
    return Math.floor(Math.log(this.uniform()) / Math.log1p(-this.w));
  }
}

function minMax(): RangeObserver {
  let lo = Infinity;
  let hi = -Infinity;
  return {
    observe(values) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    },
    range: () => [lo, hi],
  };
}

/** A min/max observer that also keeps a uniform sample of the values. */
function sampling(pick: (sample: Float32Array, lo: number, hi: number, bits: number) => readonly [number, number]): RangeObserver {
  const extremes = minMax();
  const kept = new Reservoir(CAPACITY, SAMPLE_SEED);
  return {
    observe(values) {
      extremes.observe(values);
      kept.add(values);
    },
    range(bits) {
      const [lo, hi] = extremes.range(bits);
      return pick(kept.sample(), lo, hi, bits);
    },
  };
}

/** Of the ranges α·[min, max], α = 1.00, 0.99 … 0.50, the one whose int grid reproduces the sample with least squared error. */
function leastSquaredError(sample: Float32Array, lo: number, hi: number, bits: number): readonly [number, number] {
  let best: readonly [number, number] = [lo, hi];
  let bestError = Infinity;
  for (let k = 100; k >= 50; k--) {
    const range = [(lo * k) / 100, (hi * k) / 100] as const;
    const q = activationQuant(range[0], range[1], bits);
    let error = 0;
    for (let i = 0; i < sample.length; i++) {
      const x = Math.min(q.qmax, Math.max(q.qmin, Math.round(sample[i] / q.scale) + q.zeroPoint));
      const d = sample[i] - q.scale * (x - q.zeroPoint);
      error += d * d;
    }
    if (error < bestError) [best, bestError] = [range, error];
  }
  return best;
}

/** The 0.01 % and 99.99 % points of the sample. */
function percentile(sample: Float32Array): readonly [number, number] {
  const sorted = sample.sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];
  return [at(0.0001), at(0.9999)];
}

export const OBSERVERS: Readonly<Record<ObserverKind, ObserverFactory>> = {
  minmax: minMax,
  mse: () => sampling(leastSquaredError),
  percentile: () => sampling((sample) => percentile(sample)),
};

export const OBSERVER_KINDS = Object.keys(OBSERVERS) as ObserverKind[];
