// Computed error bounds for comparing two float32 implementations of a sum of products.
// Each output is Σ_k a_k·b_k over n terms; any summation order gives |fl(s) − s| ≤ γ_n · Σ|a_k||b_k| with
// γ_n = n·u/(1 − n·u), u = 2⁻²⁴, so two implementations differ by at most 2·γ_n·Σ|a_k||b_k|. The Σ|a||b| per
// output comes from the same op run on absolute values.
import type { FloatTensor } from '../../src/tensor.js';

const U = 2 ** -24;

export const absolute = (t: FloatTensor): FloatTensor => ({ shape: t.shape, data: t.data.map(Math.abs) });
export const absoluteArray = (a: Float32Array): Float32Array => a.map(Math.abs);

/** The worst |actual − expected| / (2·γ_terms·magnitude) over all elements: ≤ 1 means within the bound. */
export function boundRatio(actual: Float32Array, expected: Float32Array, magnitude: Float32Array, terms: number): number {
  if (actual.length !== expected.length) return Infinity;
  const gamma = (terms * U) / (1 - terms * U);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const allowed = 2 * gamma * magnitude[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / allowed);
  }
  return worst;
}

