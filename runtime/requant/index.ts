// Requantization of int32 accumulators to integer outputs, one named mode per target (DESIGN.md "Integer arithmetic").
// Each mode is one file with its numeric contract above it; this table is the only lookup.

import { prepareA100 } from './a100.js';
import { prepareOnnx } from './onnx.js';
import { prepareTfliteDouble } from './tflite-double.js';
import { prepareTfliteBuiltin } from './tflite-builtin.js';
import { prepareTfliteSingle } from './tflite-single.js';
import { prepareTfliteXnnpack } from './tflite-xnnpack.js';
import { REQUANT_MODES } from '../../src/quant/requant-mode.js';
import type { RequantMode, RequantParams, Requantizer } from './types.js';

export { REQUANT_MODES };

export type { OutputRange, RequantConstants, RequantMode, RequantParams, Requantizer } from './types.js';
export { INT32_MAX, INT32_MIN } from './types.js';
export type { QuantizedMultiplier } from './quantize-multiplier.js';
export {
  quantizeMultiplier,
  quantizeMultiplierSingleRounding,
  tfliteConvMultiplier,
  tfliteFullyConnectedMultiplier,
} from './quantize-multiplier.js';
export {
  multiplyByQuantizedMultiplierDouble,
  prepareTfliteDouble,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  tfliteDoubleFromMultiplier,
} from './tflite-double.js';
export { multiplyByQuantizedMultiplierSingle, prepareTfliteSingle, tfliteSingleFromMultiplier } from './tflite-single.js';
export { prepareTfliteBuiltin } from './tflite-builtin.js';
export { prepareTfliteXnnpack } from './tflite-xnnpack.js';
export { requantizeFp32, roundHalfToEven } from './fp32-epilogue.js';
export { onnxOutputScale, prepareOnnx } from './onnx.js';
export { a100OutputScale, prepareA100 } from './a100.js';

const PREPARE: Record<RequantMode, (p: RequantParams) => Requantizer> = {
  'tflite-double': prepareTfliteDouble,
  'tflite-single': prepareTfliteSingle,
  'tflite-builtin': prepareTfliteBuiltin,
  'tflite-xnnpack': prepareTfliteXnnpack,
  onnx: prepareOnnx,
  a100: prepareA100,
};


/**
 * The TFLite build whose arithmetic a mode runs in the ops that have no rule of their own in that mode:
 * tflite-builtin is the single-rounding build, and so is tflite-xnnpack wherever the XNNPACK delegate leaves an op to
 * TFLite's built-in kernels. undefined for onnx and a100.
 */
export function tfliteBuild(mode: RequantMode): 'tflite-double' | 'tflite-single' | undefined {
  if (mode === 'tflite-double') return mode;
  return mode === 'tflite-single' || mode === 'tflite-builtin' || mode === 'tflite-xnnpack' ? 'tflite-single' : undefined;
}

/** Validates the scales and output range (throws an Error naming the bad value) and precomputes the mode's constants. */
export function prepareRequantizer(mode: RequantMode, p: RequantParams): Requantizer {
  const prepare = Object.hasOwn(PREPARE, mode) ? PREPARE[mode] : undefined;
  if (prepare === undefined) {
    throw new Error(`requantizer: unknown mode '${String(mode)}'; expected one of ${REQUANT_MODES.join(', ')}`);
  }
  return prepare(p);
}
