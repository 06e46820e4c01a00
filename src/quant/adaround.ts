import type { QuantizedWeight } from '../ir/quantized-graph.js';
import type { QuantizerInit, WeightQuantizer } from './weight-quantizer.js';

// The rectified sigmoid's stretch (Nagel et al. 2020): h(V) = clip(σ(V)·(ζ − γ) + γ, 0, 1).
const ZETA = 1.1;
const GAMMA = -0.1;
/** Regulariser weight and β schedule of BRECQ's AdaRound: β = 20 for the first 20 % of iterations (no regulariser), then down to 2. */
export const ADAROUND_LAMBDA = 0.01;
const WARMUP = 0.2;
const BETA_START = 20;
const BETA_END = 2;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** β at an iteration, or 0 while the regulariser is off (warm-up). */
function annealedBeta(iteration: number, iterations: number): number {
  const warm = WARMUP * iterations;
  if (iteration < warm) return 0;
  const progress = (iteration - warm) / Math.max(1, iterations - warm);
  return BETA_END + (BETA_START - BETA_END) * Math.max(0, 1 - progress);
}

/**
 * AdaRound: Ŵ = s · clamp(⌊W/s⌋ + h(V), qmin, qmax) on the fixed RTN grid s, with V per weight started so that
 * h(V) equals the fractional part (training starts from W itself), and λ Σ (1 − |2h(V) − 1|^β) pushing every
 * h to 0 or 1. The result rounds each weight up where V ≥ 0 and down otherwise.
 */
export function createAdaRound(init: QuantizerInit): WeightQuantizer {
  const { w, rtn, iterations } = init;
  const { qmin, qmax, scale } = rtn;
  const floor = Float64Array.from(w, (x) => Math.floor(x / scale));
  const v = Float64Array.from(w, (x, i) => {
    const rest = Math.min(1 - 1e-6, Math.max(1e-6, x / scale - floor[i]));
    return -Math.log((ZETA - GAMMA) / (rest - GAMMA) - 1);
  });
  const h = new Float64Array(w.length);
  const dh = new Float64Array(w.length);
  const inside = new Uint8Array(w.length);

  function soften(): void {
    for (let i = 0; i < w.length; i++) {
      const s = sigmoid(v[i]);
      const r = s * (ZETA - GAMMA) + GAMMA;
      h[i] = r < 0 ? 0 : r > 1 ? 1 : r;
      dh[i] = r > 0 && r < 1 ? (ZETA - GAMMA) * s * (1 - s) : 0;
    }
  }

  return {
    params: [v],
    weight() {
      soften();
      const out = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const x = floor[i] + h[i];
        inside[i] = x >= qmin && x <= qmax ? 1 : 0;
        out[i] = scale * (x < qmin ? qmin : x > qmax ? qmax : x);
      }
      return out;
    },
    gradients(dw, iteration) {
      const beta = annealedBeta(iteration, iterations);
      const grad = new Float64Array(w.length);
      for (let i = 0; i < w.length; i++) {
        grad[i] = inside[i] ? dw[i] * scale * dh[i] : 0;
        if (beta > 0) {
          const d = 2 * h[i] - 1;
          grad[i] += ADAROUND_LAMBDA * -beta * Math.abs(d) ** (beta - 1) * Math.sign(d) * 2 * dh[i];
        }
      }
      return [grad];
    },
    regularizer(iteration) {
      const beta = annealedBeta(iteration, iterations);
      if (beta === 0) return 0;
      let r = 0;
      for (let i = 0; i < w.length; i++) r += 1 - Math.abs(2 * h[i] - 1) ** beta;
      return ADAROUND_LAMBDA * r;
    },
    finish(): QuantizedWeight {
      const values = Int8Array.from(v, (vi, i) => Math.min(qmax, Math.max(qmin, floor[i] + (vi >= 0 ? 1 : 0))));
      return { ...rtn, values };
    },
  };
}
