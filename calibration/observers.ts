import type { ObserverFactory, RangeObserver } from '../src/quant/calibrate.js';
import { activationQuant } from '../src/quant/schemes.js';

export type ObserverKind = 'minmax' | 'mse' | 'percentile';

/** Values kept per activation for the MSE and percentile searches: every k-th value of each batch, deterministically. */
const PER_BATCH = 8192;
const CAPACITY = 1 << 18;

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

/** A min/max observer that also keeps a strided sample of the values. */
function sampling(pick: (sample: Float32Array, lo: number, hi: number, bits: number) => readonly [number, number]): RangeObserver {
  const extremes = minMax();
  const kept: number[] = [];
  return {
    observe(values) {
      extremes.observe(values);
      const stride = Math.max(1, Math.ceil(values.length / PER_BATCH));
      for (let i = 0; i < values.length && kept.length < CAPACITY; i += stride) kept.push(values[i]);
    },
    range(bits) {
      const [lo, hi] = extremes.range(bits);
      return pick(Float32Array.from(kept), lo, hi, bits);
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
