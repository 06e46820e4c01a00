// TFLite's int8 lookup-table activations (LUTPopulateInt8): the one definition the integer runtime
// (runtime/kernels/lut.ts) and the TFLite export (HardSigmoid as a GATHER table) both use, so the two agree by construction.
// Contract, entry q of the table, input grid (sx, zx), output grid (sy, zy), clamp to [qmin, qmax] of the output:
//   y = TfLiteRound(fp32(f(fp32(sx·(q − zx))) · fp32(1/sy))) + zy         TfLiteRound: half away from zero

import type { ActivationQuant } from '../ir/quantized-graph.js';

const f32 = Math.fround;

/** A float32 activation function. */
export type FloatActivation = (x: number) => number;

/** TfLiteRound / std::round: to nearest, ties away from zero. */
export function roundHalfAwayFromZero(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** HardSigmoid: max(0, min(1, alpha·x + beta)), each step in float32. */
export function hardSigmoid(alpha: number, beta: number): FloatActivation {
  const [a, b] = [f32(alpha), f32(beta)];
  return (x) => Math.max(0, Math.min(1, f32(f32(a * x) + b)));
}

/** The table of a float activation, entry i for input integer i − 128: `quantizeOutput` turns f's float32 value into the output integer. */
export function floatTable(f: FloatActivation, input: ActivationQuant, quantizeOutput: (v: number) => number): Int8Array {
  const sx = f32(input.scale);
  return Int8Array.from({ length: 256 }, (_, i) => quantizeOutput(f(f32(sx * (i - 128 - input.zeroPoint)))));
}

/** TFLite's LUTPopulateInt8 output step: multiply by the float32 reciprocal of the scale, round half away. */
export function tfliteTableQuantizer(output: ActivationQuant): (v: number) => number {
  const inverseScale = f32(1 / f32(output.scale));
  return (v) => Math.min(output.qmax, Math.max(output.qmin, roundHalfAwayFromZero(f32(v * inverseScale)) + output.zeroPoint));
}

/** TFLite's int8 table of f between two grids: see the contract above. */
export const tfliteTable = (f: FloatActivation, input: ActivationQuant, output: ActivationQuant): Int8Array => floatTable(f, input, tfliteTableQuantizer(output));
