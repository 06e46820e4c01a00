import { fp32, weightRange } from './schemes.js';
import type { QuantizedWeight } from '../ir/quantized-graph.js';

/** Rounds w onto the symmetric grid of `scale` and clamps to [qmin, qmax]. */
export function roundToGrid(w: Float32Array, scale: number, qmin: number, qmax: number): Int8Array {
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.min(qmax, Math.max(qmin, Math.round(w[i] / scale)));
  return q;
}

/** ‖W − Ŵ‖² of rounding W onto the grid, without materialising Ŵ (the clipping search calls it 100 times per tensor). */
function roundingError(w: Float32Array, scale: number, qmin: number, qmax: number): number {
  let e = 0;
  for (let i = 0; i < w.length; i++) {
    let q = Math.round(w[i] / scale);
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    const d = w[i] - scale * q;
    e += d * d;
  }
  return e;
}

export const CLIPPING_RATIOS = 100;

/**
 * Per-tensor symmetric rounding to nearest with the grid chosen by a clipping search: of the scales
 * α·max|w|/qmax, α = 1/100 … 100/100, the one with the least ‖W − Ŵ‖² (the s1 initialisation FlexRound starts from).
 */
export function quantizeWeightRtn(w: Float32Array, shape: readonly number[], bits: number): QuantizedWeight {
  const { qmin, qmax } = weightRange(bits);
  const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (maxAbs === 0) return { shape, values: new Int8Array(w.length), scale: 1, zeroPoint: 0, bits, qmin, qmax };
  let best = { scale: fp32(maxAbs / qmax), error: Infinity };
  for (let k = CLIPPING_RATIOS; k >= 1; k--) {
    const scale = fp32(((k / CLIPPING_RATIOS) * maxAbs) / qmax);
    const error = roundingError(w, scale, qmin, qmax);
    if (error < best.error) best = { scale, error };
  }
  return { shape, values: roundToGrid(w, best.scale, qmin, qmax), scale: best.scale, zeroPoint: 0, bits, qmin, qmax };
}

/**
 * One clipping-searched symmetric grid per index of axis 0 (the output channel of a Conv, and of a Gemm with
 * transB): layers whose channels' ranges differ widely (depthwise convs) keep their small channels' precision.
 * `scale` is the largest channel scale (reports only; consumers read channelScales).
 */
export function quantizeWeightRtnPerChannel(w: Float32Array, shape: readonly number[], bits: number): QuantizedWeight {
  const channels = shape[0];
  const inner = w.length / channels;
  const values = new Int8Array(w.length);
  const channelScales = new Float32Array(channels);
  for (let m = 0; m < channels; m++) {
    const channel = quantizeWeightRtn(w.subarray(m * inner, (m + 1) * inner), [inner], bits);
    values.set(channel.values, m * inner);
    channelScales[m] = channel.scale;
  }
  const { qmin, qmax } = weightRange(bits);
  return { shape, values, scale: Math.max(...channelScales), channelScales, zeroPoint: 0, bits, qmin, qmax };
}
