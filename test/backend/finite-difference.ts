// Central finite differences whose error is computable: L(x) = Σ dy·f(x) is evaluated as Σ_j dy_j·(f(x+)_j − f(x−)_j)
// in float64 over the outputs the step changed, divided by the step the float32 input actually took. For functions
// that are linear or quadratic between kinks (every op here) the difference has no truncation error, so the only
// error left is f's own float32 rounding of the changed outputs, (1 + terms)·u·Σ|dy_j|·(m(x+)_j + m(x−)_j) / step,
// where m is |f| or, for a sum of products, the same sum over absolute values.
import type { FloatTensor } from '../../src/tensor.js';

const U = 2 ** -24;

type Fn = (x: FloatTensor) => FloatTensor | Promise<FloatTensor>;

export interface FiniteDifferenceOptions {
  /** Float32 additions inside f per output (pooling windows, a conv's Cin·kh·kw); 0 for element-wise maps. */
  readonly terms?: number;
  /** Per output, the magnitude its rounding error scales with; |f| when absent. */
  readonly magnitude?: Fn;
  /** Per element, an absolute bound on the analytic gradient's own rounding error; 0 when absent. */
  readonly analyticError?: Float32Array;
}

/** Worst |finite difference − analytic| / (its rounding bound) over every element of x: ≤ 1 means they agree. */
export async function finiteDifferenceRatio(f: Fn, x: FloatTensor, dy: Float32Array, analytic: Float32Array, h: number, o: FiniteDifferenceOptions = {}): Promise<number> {
  let worst = 0;
  for (let i = 0; i < x.data.length; i++) {
    const plus = { shape: x.shape, data: Float32Array.from(x.data) };
    const minus = { shape: x.shape, data: Float32Array.from(x.data) };
    plus.data[i] += h;
    minus.data[i] -= h;
    const step = plus.data[i] - minus.data[i];
    const yp = (await f(plus)).data;
    const ym = (await f(minus)).data;
    const mp = o.magnitude ? (await o.magnitude(plus)).data : yp;
    const mm = o.magnitude ? (await o.magnitude(minus)).data : ym;
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < yp.length; j++) {
      diff += dy[j] * (yp[j] - ym[j]);
      if (yp[j] !== ym[j] || o.magnitude) scale += Math.abs(dy[j]) * (Math.abs(mp[j]) + Math.abs(mm[j]));
    }
    const tol = ((1 + (o.terms ?? 0)) * U * scale) / step + (o.analyticError?.[i] ?? 0) + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(diff / step - analytic[i]) / tol);
  }
  return worst;
}
