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

/** The rounding a mode uses wherever its target rounds a float to an integer. */
function modeRounding(mode: RequantMode): (v: number) => number {
  return tfliteBuild(mode) ? roundHalfAwayFromZero : roundHalfToEven;
}

/** One float32 value onto the grid: see the contract above. */
export function gridQuantizer(mode: RequantMode, grid: ActivationQuant): (x: number) => number {
  const round = modeRounding(mode);
  const scale = Math.fround(grid.scale);
  const { zeroPoint, qmin, qmax } = grid;
  return (x) => {
    const q = round(Math.fround(x / scale)) + zeroPoint;
    return q < qmin ? qmin : q > qmax ? qmax : q;
  };
}

/** A float tensor onto the grid, element by element. */
export function quantizeTensor(mode: RequantMode, grid: ActivationQuant, data: Float32Array): Int8Array {
  const quantize = gridQuantizer(mode, grid);
  const out = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = quantize(data[i]);
  return out;
}

/** The graph input's QUANTIZE of a mode: XNNPACK's reciprocal multiply in the LiteRT modes, else gridQuantizer's rule. */
export function quantizeGraphInput(mode: RequantMode, grid: ActivationQuant, data: Float32Array): Int8Array {
  if (mode !== 'tflite-xnnpack' && mode !== 'tflite-builtin') return quantizeTensor(mode, grid, data);
  const reciprocal = Math.fround(1 / Math.fround(grid.scale));
  const { zeroPoint, qmin, qmax } = grid;
  const out = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const q = roundHalfToEven(Math.fround(data[i] * reciprocal)) + zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
  return out;
}
