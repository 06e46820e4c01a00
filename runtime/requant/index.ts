// Requantization of int32 accumulators to integer outputs, one named mode per target (DESIGN.md "Integer arithmetic").
// Each mode is one file with its numeric contract above it; this table is the only lookup.

import { prepareA100 } from './a100.js';
import { prepareOnnx } from './onnx.js';
import { prepareTfliteDouble } from './tflite-double.js';
import { prepareTfliteSingle } from './tflite-single.js';
import type { RequantMode, RequantParams, Requantizer } from './types.js';

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
export { requantizeFp32, roundHalfToEven } from './fp32-epilogue.js';
export { onnxOutputScale, prepareOnnx } from './onnx.js';
export { a100OutputScale, prepareA100 } from './a100.js';

const PREPARE: Record<RequantMode, (p: RequantParams) => Requantizer> = {
  'tflite-double': prepareTfliteDouble,
  'tflite-single': prepareTfliteSingle,
  onnx: prepareOnnx,
  a100: prepareA100,
};

export const REQUANT_MODES: readonly RequantMode[] = Object.freeze(['tflite-double', 'tflite-single', 'onnx', 'a100']);

/** Validates the scales and output range (throws an Error naming the bad value) and precomputes the mode's constants. */
export function prepareRequantizer(mode: RequantMode, p: RequantParams): Requantizer {
  const prepare = Object.hasOwn(PREPARE, mode) ? PREPARE[mode] : undefined;
  if (prepare === undefined) {
    throw new Error(`requantizer: unknown mode '${String(mode)}'; expected one of ${REQUANT_MODES.join(', ')}`);
  }
  return prepare(p);
}
