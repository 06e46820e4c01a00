// Float → integer on an activation grid, the way each target's QUANTIZE does it.
// Contract, for a float32 x and a grid (scale s, zero point z, range [qmin, qmax]):
//   tflite-double, tflite-single: TFLite's QUANTIZE (reference AffineQuantize): q = TfLiteRound(fp32(x / s)) + z,
//                                 TfLiteRound = std::round, half away from zero; saturate to [qmin, qmax].
//   onnx, a100:                   onnxruntime's QuantizeLinear (MLAS: float32 divide, clamp, cvtps2dq):
//                                 q = rne(fp32(x / s)) + z, rne = round half to even; saturate to [qmin, qmax].
// fp32(x / s): a double quotient of two float32s rounded once to float32 is the correctly rounded float32 quotient.
// The graph input's QUANTIZE in LiteRT.js (modes tflite-xnnpack and tflite-builtin: its XNNPACK delegate takes that op
// on both paths, weights constant or not) is XNNPACK's f32 → qs8 convert instead: q = rne(fp32(x · fp32(1 / s))) + z,
// saturate. Measured on 27,648 floats next to grid half-points: 0 differ (rne of x / s: 2; half away: 120); inputs such
// as (pixel/127.5 − 1) on the grid 2/255 are all ties.

import type { ActivationQuant } from '../src/ir/quantized-graph.js';
import { roundHalfAwayFromZero } from '../src/quant/tflite-lut.js';
import { roundHalfToEven, tfliteBuild, type RequantMode } from './requant/index.js';

export { roundHalfAwayFromZero } from '../src/quant/tflite-lut.js';

/**
 * One float → grid rule, as data: the runtime applies it and the C library's `quantize_input` is emitted from it, so
 * both round the same way. q = ties(fp32(x / scale)) or ties(fp32(x · reciprocal)), + zero point, saturated.
 */
export type QuantizeRule =
  | { readonly kind: 'divide'; readonly scale: number; readonly ties: 'away' | 'even' }
  | { readonly kind: 'multiply'; readonly reciprocal: number; readonly ties: 'even' };

/** The rule of a mode wherever its target rounds a float onto a grid (QUANTIZE inside the graph, tables). */
export function gridRule(mode: RequantMode, grid: ActivationQuant): QuantizeRule {
  return { kind: 'divide', scale: Math.fround(grid.scale), ties: tfliteBuild(mode) ? 'away' : 'even' };
}

/** The rule of the graph input's QUANTIZE: XNNPACK's reciprocal multiply in the LiteRT modes, else gridRule. */
export function graphInputRule(mode: RequantMode, grid: ActivationQuant): QuantizeRule {
  if (mode !== 'tflite-xnnpack' && mode !== 'tflite-builtin') return gridRule(mode, grid);
  return { kind: 'multiply', reciprocal: Math.fround(1 / Math.fround(grid.scale)), ties: 'even' };
}

/** One float32 value onto the grid by a rule: see the contract above. */
export function ruleQuantizer(rule: QuantizeRule, grid: ActivationQuant): (x: number) => number {
  const round = rule.ties === 'away' ? roundHalfAwayFromZero : roundHalfToEven;
  // Both operands are float32: the double quotient or product rounded once to float32 is the float32 operation's result.
  const real = rule.kind === 'divide' ? (x: number) => Math.fround(x / rule.scale) : (x: number) => Math.fround(x * rule.reciprocal);
  const { zeroPoint, qmin, qmax } = grid;
  return (x) => {
    const q = round(real(x)) + zeroPoint;
    return q < qmin ? qmin : q > qmax ? qmax : q;
  };
}

/** One float32 value onto the grid by the mode's gridRule. */
export function gridQuantizer(mode: RequantMode, grid: ActivationQuant): (x: number) => number {
  return ruleQuantizer(gridRule(mode, grid), grid);
}

/** Every float of a tensor through one quantizer. */
function quantizeEach(quantize: (x: number) => number, data: Float32Array): Int8Array {
  const out = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = quantize(data[i]);
  return out;
}

/** A float tensor onto the grid by the mode's gridRule. */
export function quantizeTensor(mode: RequantMode, grid: ActivationQuant, data: Float32Array): Int8Array {
  return quantizeEach(gridQuantizer(mode, grid), data);
}

/** The graph input's QUANTIZE of a mode (graphInputRule). */
export function quantizeGraphInput(mode: RequantMode, grid: ActivationQuant, data: Float32Array): Int8Array {
  return quantizeEach(ruleQuantizer(graphInputRule(mode, grid), grid), data);
}
