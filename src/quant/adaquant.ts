import type { QuantizedWeight } from '../ir/quantized-graph.js';
import { fp32 } from './schemes.js';
import type { QuantizerInit, WeightQuantizer } from './weight-quantizer.js';

/**
 * AdaQuant (Hubara et al. 2021): Ŵ = s · clamp(round((W + V) / s), qmin, qmax), learning an additive V per weight
 * (started at 0) and the grid s (as log s, from the RTN grid), with the straight-through estimator. Free additive
 * updates are what makes it overfit a small calibration set at low bit widths, as the FlexRound paper reports.
 */
export function createAdaQuant(init: QuantizerInit): WeightQuantizer {
  const { w, rtn } = init;
  const { qmin, qmax } = rtn;
  const logS = Float64Array.of(Math.log(rtn.scale));
  const v = new Float64Array(w.length);
  const q = new Int8Array(w.length);
  const inside = new Uint8Array(w.length);

  function quantize(): number {
    const s = Math.exp(logS[0]);
    for (let i = 0; i < w.length; i++) {
      const r = Math.round((w[i] + v[i]) / s);
      inside[i] = r >= qmin && r <= qmax ? 1 : 0;
      q[i] = r < qmin ? qmin : r > qmax ? qmax : r;
    }
    return s;
  }

  return {
    params: [logS, v],
    weight() {
      const s = quantize();
      const out = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) out[i] = s * q[i];
      return out;
    },
    gradients(dw) {
      const s = Math.exp(logS[0]);
      const gS = Float64Array.of(0);
      const gV = new Float64Array(w.length);
      for (let i = 0; i < w.length; i++) {
        gS[0] += dw[i] * s * q[i];
        if (!inside[i]) continue;
        gS[0] -= dw[i] * (w[i] + v[i]);
        gV[i] = dw[i];
      }
      return [gS, gV];
    },
    regularizer: () => 0,
    finish(): QuantizedWeight {
      const s = quantize();
      return { ...rtn, values: Int8Array.from(q), scale: fp32(s) };
    },
  };
}
