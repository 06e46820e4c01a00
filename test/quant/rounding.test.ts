// The learnable roundings' gradients against finite differences, their parameter shapes, and the LSQ quantizer.
// Rounding has no derivative; the straight-through estimator defines one: inside the clamp range round(z) moves
// like z. So each check differentiates that surrogate numerically, Ŵ(θ) ≈ Ŵ(θ0) with round(z(θ)) replaced by
// q0 + (z(θ) − z(θ0)) where the clamp let q0 through, and compares with the method's analytic gradients.

import { describe, expect, it } from 'vitest';
import { createAdaQuant } from '../../src/quant/adaquant.js';
import { createAdaRound } from '../../src/quant/adaround.js';
import { createFlexRound } from '../../src/quant/flexround.js';
import { fakeQuantize, fakeQuantizeBackward, LearnedStep } from '../../src/quant/lsq.js';
import { activationQuant } from '../../src/quant/schemes.js';
import { quantizeWeightRtn } from '../../src/quant/weight-grid.js';
import { convLayout, matrixLayout, type QuantizerInit, type WeightQuantizer } from '../../src/quant/weight-quantizer.js';
import { mulberry32 } from '../../src/random.js';

function gaussian(n: number, seed: number, sigma = 0.1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

function init(shape: number[], bits: number, seed: number, iterations = 100): QuantizerInit {
  const w = gaussian(shape.reduce((a, b) => a * b, 1), seed);
  const layout = shape.length === 4 ? convLayout(shape) : matrixLayout(shape, 0);
  return { w, shape, layout, rtn: quantizeWeightRtn(w, shape, bits), iterations, rateBits: bits };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

/**
 * Checks ∂(Σ g·Ŵ)/∂θ of a quantizer against central differences of `surrogate` (a function of the perturbed
 * parameters that the test writes from the method's equation), for a few random coordinates of each parameter.
 */
function checkGradients(q: WeightQuantizer, surrogate: () => ArrayLike<number>, seed: number, h = 1e-6): number {
  const what = q.weight();
  const g = gaussian(what.length, seed + 1, 1);
  const analytic = q.gradients(Float32Array.from(g), 0);
  const r = mulberry32(seed + 2);
  let worst = 0;
  q.params.forEach((p, k) => {
    for (let t = 0; t < Math.min(6, p.length); t++) {
      const i = Math.floor(r() * p.length);
      const keep = p[i];
      p[i] = keep + h;
      const up = dot(g, surrogate());
      p[i] = keep - h;
      const down = dot(g, surrogate());
      p[i] = keep;
      const numeric = (up - down) / (2 * h);
      const scale = Math.max(1e-6, Math.abs(numeric), Math.abs(analytic[k][i]));
      worst = Math.max(worst, Math.abs(numeric - analytic[k][i]) / scale);
    }
  });
  return worst;
}

/** FlexRound's surrogate at the current parameters: s1 · (q0 + inside · (W/S' − z0)). */
function flexRoundSurrogate(q: WeightQuantizer, ini: QuantizerInit): () => Float64Array {
  const { w, layout, rtn } = ini;
  const s = () => {
    const [a1, a2, a3, a4] = q.params;
    return Float64Array.from(w, (_, i) => Math.exp(a1[0] + a2[i] + a3[layout.outOf(i)] + (a4 ? a4[layout.inOf(i)] : 0)));
  };
  const z0 = Float64Array.from(w, (x, i) => x / s()[i]);
  const q0 = z0.map((z) => Math.min(rtn.qmax, Math.max(rtn.qmin, Math.round(z))));
  const inside = z0.map((z) => (Math.round(z) >= rtn.qmin && Math.round(z) <= rtn.qmax ? 1 : 0));
  return () => {
    const sp = s();
    const s1 = Math.exp(q.params[0][0]);
    return Float64Array.from(w, (x, i) => s1 * (q0[i] + inside[i] * (x / sp[i] - z0[i])));
  };
}

/** Moves every FlexRound parameter off its start so the check covers general points, not only S2 = s3 = s4 = 1. */
function perturb(q: WeightQuantizer, seed: number): void {
  const r = mulberry32(seed);
  q.params.forEach((p, k) => p.forEach((_, i) => (p[i] += (k === 0 ? 0.02 : 0.1) * (r() - 0.5))));
}

describe('FlexRound', () => {
  const cases: [string, number[], number[]][] = [
    ['conv', [8, 4, 3, 3], [1, 288, 8, 4]],
    ['depthwise conv (one input channel per group: no s4)', [6, 1, 3, 3], [1, 54, 6]],
    ['linear', [10, 16], [1, 160, 10]],
  ];
  for (const [what, shape, sizes] of cases)
    it(`learns s1 (per tensor), S2 (per weight), s3 (per output channel)${sizes.length === 4 ? ', s4 (per input channel)' : ''} for a ${what}`, () => {
      const q = createFlexRound(init(shape, 4, 1));
      expect(q.params.map((p) => p.length)).toEqual(sizes);
    });

  it('starts exactly at rounding to nearest on the RTN grid', () => {
    const ini = init([8, 4, 3, 3], 3, 2);
    const q = createFlexRound(ini);
    const done = q.finish();
    expect(Array.from(done.values)).toEqual(Array.from(ini.rtn.values));
    expect(done.scale).toBe(ini.rtn.scale);
  });

  for (const [what, shape] of [['conv', [8, 4, 3, 3]], ['linear', [10, 16]]] as const)
    it(`gives the straight-through gradients of s1, S2, s3, s4 (${what}), checked by finite differences`, () => {
      const ini = init([...shape], 4, 3);
      const q = createFlexRound(ini);
      perturb(q, 4);
      expect(checkGradients(q, flexRoundSurrogate(q, ini), 5)).toBeLessThan(1e-5);
    });
});

describe('AdaRound', () => {
  it('starts from W itself (h(V) = fractional part) and ends on floor or ceil of W/s', () => {
    const ini = init([8, 4, 3, 3], 4, 6);
    const q = createAdaRound(ini);
    const soft = q.weight();
    const inRange = Array.from(ini.w).map((x, i) => [x, soft[i]]).filter(([x]) => Math.abs(x / ini.rtn.scale) < ini.rtn.qmax - 1);
    for (const [x, y] of inRange) expect(Math.abs(x - y)).toBeLessThan(1e-4 * ini.rtn.scale + 1e-7);
    const hard = q.finish();
    const clamp = (x: number) => Math.min(ini.rtn.qmax, Math.max(ini.rtn.qmin, x));
    hard.values.forEach((v, i) => {
      const down = Math.floor(ini.w[i] / ini.rtn.scale);
      expect([clamp(down), clamp(down + 1)]).toContain(v);
    });
  });

  it('has the exact gradient of its soft rounding and of its regulariser (finite differences)', () => {
    const ini = init([10, 16], 3, 7, 100);
    const q = createAdaRound(ini);
    perturb(q, 8);
    // Ŵ is differentiable in V (the rectified sigmoid), so the check needs no surrogate; Ŵ is float32, hence the larger step.
    expect(checkGradients(q, () => q.weight(), 9, 1e-3)).toBeLessThan(1e-3);
    // After warm-up the regulariser adds its own gradient: check Σ g·Ŵ + reg together.
    const late = 60;
    q.weight();
    const g = gaussian(ini.w.length, 10, 1);
    const analytic = q.gradients(Float32Array.from(g), late)[0];
    const v = q.params[0];
    const total = () => dot(g, q.weight()) + q.regularizer(late);
    for (const i of [0, 17, 93]) {
      const keep = v[i];
      v[i] = keep + 1e-3;
      const up = total();
      v[i] = keep - 1e-3;
      const down = total();
      v[i] = keep;
      q.weight();
      expect(Math.abs((up - down) / 2e-3 - analytic[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(analytic[i])));
    }
  });
});

describe('AdaQuant', () => {
  it('gives the straight-through gradients of s and V (finite differences)', () => {
    const ini = init([8, 4, 3, 3], 4, 11);
    const q = createAdaQuant(ini);
    perturb(q, 12);
    const [logS, v] = q.params;
    const s0 = Math.exp(logS[0]);
    const z0 = Float64Array.from(ini.w, (x, i) => (x + v[i]) / s0);
    const q0 = z0.map((z) => Math.min(ini.rtn.qmax, Math.max(ini.rtn.qmin, Math.round(z))));
    const inside = z0.map((z) => (Math.round(z) >= ini.rtn.qmin && Math.round(z) <= ini.rtn.qmax ? 1 : 0));
    const surrogate = () => {
      const s = Math.exp(logS[0]);
      return Float64Array.from(ini.w, (x, i) => s * (q0[i] + inside[i] * ((x + v[i]) / s - z0[i])));
    };
    expect(checkGradients(q, surrogate, 13)).toBeLessThan(1e-5);
  });
});

describe('LSQ activation step', () => {
  it('gives ∂x̂/∂x (straight through) and ∂x̂/∂log s, checked by finite differences', () => {
    const grid = activationQuant(-1, 3, 4);
    const step = new LearnedStep(grid);
    step.logStep[0] += 0.03;
    const x = gaussian(500, 14, 2);
    const g = gaussian(500, 15, 1);
    const { y, tape } = fakeQuantize(x, step);
    const { dx, dLogStep } = fakeQuantizeBackward(g, tape, step);
    dx.forEach((d, i) => expect(d).toBe(tape.inside[i] ? g[i] : 0));
    const s0 = step.step;
    const surrogate = () => {
      const s = step.step;
      return Float64Array.from(x, (xi, i) => {
        const c = Math.round(xi / s0) + grid.zeroPoint;
        return tape.inside[i] ? s * (xi / s + (c - grid.zeroPoint) - xi / s0) : s * ((c < grid.qmin ? grid.qmin : grid.qmax) - grid.zeroPoint);
      });
    };
    const keep = step.logStep[0];
    step.logStep[0] = keep + 1e-7;
    const up = dot(g, surrogate());
    step.logStep[0] = keep - 1e-7;
    const down = dot(g, surrogate());
    step.logStep[0] = keep;
    expect(Math.abs((up - down) / 2e-7 - dLogStep)).toBeLessThan(1e-4 * Math.abs(dLogStep));
    expect(y.every((v) => Number.isFinite(v))).toBe(true);
  });
});
