// What every requantization mode shares: the names, the prepared object, and the checks run once at prepare time.

import type { RequantMode } from '../../src/quant/requant-mode.js';

export type { RequantMode };

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** The real scales of one output channel and the integer output range (zero point and clamp bounds). */
export interface RequantParams {
  inputScale: number;
  weightScale: number;
  outputScale: number;
  zeroPoint: number;
  min: number;
  max: number;
}

/** The integer side of RequantParams: where the requantized value lands. */
export interface OutputRange {
  zeroPoint: number;
  min: number;
  max: number;
}

/** The constants apply() runs on, for code generators (C, CUDA) that must compute the same thing. */
export type RequantConstants =
  | ({ kind: 'fixed-point'; multiplier: number; shift: number } & OutputRange)
  | ({ kind: 'fp32'; scale: number } & OutputRange);

/** Precomputed at prepare time from the real scales; apply() runs blind on each accumulator. */
export interface Requantizer {
  readonly mode: RequantMode;
  readonly constants: RequantConstants;
  /** acc: an int32 accumulator (Σ (x−zx)·w + bias). Returns the clamped output integer. No checks, no allocation. */
  apply(acc: number): number;
}

/**
 * The three scales as float32, the type every target stores them in (TFLite flatbuffer, ONNX initializer,
 * CUDA kernel argument): each target computes its multiplier from these rounded values, so do we.
 */
export interface Float32Scales {
  inputScale: number;
  weightScale: number;
  outputScale: number;
}

export function validateRequantParams(mode: RequantMode, p: RequantParams): Float32Scales {
  const where = `requantizer '${mode}'`;
  const scale = (name: keyof Float32Scales): number => {
    const s = p[name];
    if (typeof s !== 'number' || !Number.isFinite(s) || !(s > 0)) {
      throw new Error(`${where}: ${name} must be a positive finite number, got ${String(s)}`);
    }
    const f = Math.fround(s);
    if (!Number.isFinite(f) || !(f > 0)) {
      throw new Error(`${where}: ${name} ${s} is not representable as a positive finite float32 (it becomes ${f})`);
    }
    return f;
  };
  const scales = { inputScale: scale('inputScale'), weightScale: scale('weightScale'), outputScale: scale('outputScale') };
  validateOutputRange(mode, p);
  return scales;
}

export function validateOutputRange(mode: RequantMode, r: OutputRange): void {
  const where = `requantizer '${mode}'`;
  for (const name of ['zeroPoint', 'min', 'max'] as const) {
    const v = r[name];
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      throw new Error(`${where}: ${name} must be an int32 integer, got ${String(v)}`);
    }
  }
  if (r.min > r.max) throw new Error(`${where}: min ${r.min} is greater than max ${r.max}`);
  if (r.zeroPoint < r.min || r.zeroPoint > r.max) {
    throw new Error(`${where}: zeroPoint ${r.zeroPoint} lies outside [min, max] = [${r.min}, ${r.max}]`);
  }
}
