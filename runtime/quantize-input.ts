// Float → integer on an activation grid, the way each target's QUANTIZE does it.
// Contract, for a float32 x and a grid (scale s, zero point z, range [qmin, qmax]):
//   tflite-double, tflite-single: TFLite's QUANTIZE (reference AffineQuantize): q = TfLiteRound(fp32(x / s)) + z,
//                                 TfLiteRound = std::round, half away from zero; saturate to [qmin, qmax].
//   onnx, a100:                   onnxruntime's QuantizeLinear (MLAS: float32 divide, clamp, cvtps2dq):
//                                 q = rne(fp32(x / s)) + z, rne = round half to even; saturate to [qmin, qmax].
// fp32(x / s): a double quotient of two float32s rounded once to float32 is the correctly rounded float32 quotient.

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
