import type { QuantizedWeight } from '../ir/quantized-graph.js';
import { fp32 } from './schemes.js';
import type { QuantizerInit, WeightQuantizer } from './weight-quantizer.js';

/**
 * The learning rate at `bits` relative to 4 bits. A divisor moves its weight by one grid step when it changes by
 * about step / |W|, which halves with each bit, so above 4 bits the rate shrinks by 2^(4 − bits). At 8 bits the
 * 4-bit rate let Selfie Segmentation's weights travel up to 75 steps in 20 iterations (mask IoU below RTN's).
 */
export const flexRoundRateAt = (bits: number): number => Math.min(1, 2 ** (4 - bits));

/**
 * The factor of the run's rate for a layer `bits` wide in a run of `runBits`. A wider layer (the 8-bit first and last
 * layers of a W4 run) learns at its own width's rate: at the 4-bit rate its weights travel many of their grid steps,
 * and MobileNetV2 W4A32 block-wise (300 iterations, seeds 0/1/2) scores 77.2/77.6/76.2 % against 78.4/77.8/77.6 %.
 * In a 2-bit run it keeps the run's rate and absorbs the 2-bit layers' error: ResNet-8 W2A32 76.0 % against 62.0 %.
 */
export function flexRoundRateScale(bits: number, runBits: number): number {
  return runBits <= 2 ? 1 : flexRoundRateAt(bits) / flexRoundRateAt(runBits);
}

/**
 * FlexRound (Lee et al., ICML 2023, arXiv 2306.00317): Ŵ = s1 · clamp(round(W / (s1 ⊙ S2 ⊙ s3 ⊙ s4)), qmin, qmax).
 * s1 is the grid (from the RTN clipping search): one per tensor, or one per index of axis 0 when the RTN start is
 * per channel (then the grids learned are per channel too), S2 one divisor per weight, s3 one per output channel,
 * s4 one per input channel (convolutions with more than one input channel per group). All start at RTN
 * (S2 = s3 = s4 = 1) and are learned as logarithms so they stay positive. Rounding passes the gradient straight
 * through inside the clamp range, so with z = W / S' and a = log of any divisor, ∂Ŵ/∂a = −s1 · z; s1 also scales
 * the grid directly, ∂Ŵ/∂log s1 = s1 · (q − z). Large |W| get large updates: the element-wise division is what
 * lets FlexRound move a weight by more than one grid step.
 */
export function createFlexRound(init: QuantizerInit): WeightQuantizer {
  const { w, layout, rtn } = init;
  const { qmin, qmax } = rtn;
  const logS1 = rtn.channelScales ? Float64Array.from(rtn.channelScales, Math.log) : Float64Array.of(Math.log(rtn.scale));
  // Which s1 each weight divides by and is scaled by: its axis-0 index when per channel, else the one grid.
  const inner = w.length / logS1.length;
  const gridOf = Int32Array.from({ length: w.length }, (_, i) => Math.floor(i / inner));
  const logS2 = new Float64Array(w.length);
  const logS3 = new Float64Array(layout.outChannels);
  const logS4 = new Float64Array(layout.inChannels > 1 ? layout.inChannels : 0);
  const params = logS4.length ? [logS1, logS2, logS3, logS4] : [logS1, logS2, logS3];
  const outOf = Int32Array.from({ length: w.length }, (_, i) => layout.outOf(i));
  const inOf = Int32Array.from({ length: w.length }, (_, i) => layout.inOf(i));
  // What the last weight() saw, for the backward pass: z = W / S' and whether round(z) was inside the clamp.
  const z = new Float64Array(w.length);
  const q = new Int8Array(w.length);
  const inside = new Uint8Array(w.length);
  // Reused every iteration (an iteration allocated 3 weight-sized arrays): the optimizer consumes the gradients
  // before the next call.
  const g1 = new Float64Array(logS1.length);
  const g2 = new Float64Array(w.length);
  const g3 = new Float64Array(logS3.length);
  const g4 = new Float64Array(logS4.length);
  const grads = g4.length ? [g1, g2, g3, g4] : [g1, g2, g3];
  const s3 = new Float64Array(logS3.length);
  const s4 = new Float64Array(logS4.length);

  /**
   * z = W / (s1·S2·s3·s4) and q = clamp(round(z)); the per-channel factors are exponentiated once per call. Two
   * passes: V8 runs them apart in 36 ms on 1.28 M weights, fused in 56 (MobileNetV2's classifier).
   */
  function quantize(): void {
    for (let c = 0; c < s3.length; c++) s3[c] = Math.exp(logS3[c]);
    for (let c = 0; c < s4.length; c++) s4[c] = Math.exp(logS4[c]);
    if (s4.length > 0) for (let i = 0; i < w.length; i++) z[i] = w[i] / (Math.exp(logS1[gridOf[i]] + logS2[i]) * s3[outOf[i]] * s4[inOf[i]]);
    else for (let i = 0; i < w.length; i++) z[i] = w[i] / (Math.exp(logS1[gridOf[i]] + logS2[i]) * s3[outOf[i]]);
    for (let i = 0; i < w.length; i++) {
      const r = Math.round(z[i]);
      inside[i] = r >= qmin && r <= qmax ? 1 : 0;
      q[i] = r < qmin ? qmin : r > qmax ? qmax : r;
    }
  }

  return {
    params,
    rateScale: flexRoundRateScale(rtn.bits, init.rateBits),
    weight() {
      quantize();
      const s1 = logS1.map(Math.exp);
      const out = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) out[i] = s1[gridOf[i]] * q[i];
      return out;
    },
    gradients(dw) {
      const s1 = logS1.map(Math.exp);
      g1.fill(0);
      g3.fill(0);
      g4.fill(0);
      for (let i = 0; i < w.length; i++) {
        const k = gridOf[i];
        g1[k] += dw[i] * s1[k] * q[i];
        if (!inside[i]) {
          g2[i] = 0;
          continue;
        }
        const t = -dw[i] * s1[k] * z[i];
        g1[k] += t;
        g2[i] = t;
        g3[outOf[i]] += t;
        if (g4.length) g4[inOf[i]] += t;
      }
      return grads;
    },
    regularizer: () => 0,
    finish(): QuantizedWeight {
      quantize();
      if (!rtn.channelScales) return { ...rtn, values: Int8Array.from(q), scale: fp32(Math.exp(logS1[0])) };
      const channelScales = Float32Array.from(logS1, (l) => fp32(Math.exp(l)));
      return { ...rtn, values: Int8Array.from(q), scale: Math.max(...channelScales), channelScales };
    },
  };
}
