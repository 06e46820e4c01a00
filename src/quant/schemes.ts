import type { ActivationQuant } from '../ir/quantized-graph.js';

export const fp32 = Math.fround;

/** Integer range of a signed weight grid: 8 bits use TFLite's symmetric [−127, 127]; fewer bits the full [−2^(b−1), 2^(b−1)−1]. */
export function weightRange(bits: number): { qmin: number; qmax: number } {
  if (bits === 8) return { qmin: -127, qmax: 127 };
  return { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
}

/**
 * How wide the 8-bit weight grids may be. 'int8': TFLite's [−127, 127]. 'int7': every layer capped at 7 bits,
 * [−64, 63], so u8·s8 pair sums fit int16 (255·64·2 = 32640 < 32767) and onnxruntime-node's AVX2 u8s8 kernels
 * (vpmaddubsw, saturating) stay exact; sub-8-bit layers are unchanged.
 */
export type WeightRange = 'int8' | 'int7';
export const WEIGHT_RANGES: readonly WeightRange[] = ['int8', 'int7'];

/** The bits of a layer asked for `bits` under `range` (the widest grid the range allows). */
export function cappedWeightBits(bits: number, range: WeightRange): number {
  return range === 'int7' ? Math.min(bits, 7) : bits;
}

/** Integer range of an activation: asymmetric signed [−2^(b−1), 2^(b−1)−1] (int8 storage). */
export function activationRange(bits: number): { qmin: number; qmax: number } {
  return { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
}

/**
 * Asymmetric activation parameters covering [lo, hi], widened to include 0 so that zero is exact
 * (padding and ReLU need it): scale = (hi − lo)/(qmax − qmin), zeroPoint = round(qmin − lo/scale).
 */
export function activationQuant(lo: number, hi: number, bits: number): ActivationQuant {
  const { qmin, qmax } = activationRange(bits);
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  const scale = fp32(max > min ? (max - min) / (qmax - qmin) : 1);
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - min / scale)));
  return { scale, zeroPoint, bits, qmin, qmax };
}

/** Fixed output grids some integer ops require (TFLite's LOGISTIC and SOFTMAX): [0, 1) at 1/256. */
export function unitIntervalQuant(bits: number): ActivationQuant {
  const { qmin, qmax } = activationRange(bits);
  return { scale: fp32(1 / (qmax - qmin + 1)), zeroPoint: qmin, bits, qmin, qmax };
}
