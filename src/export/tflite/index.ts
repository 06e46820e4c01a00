// TFLite export: a QuantizedGraph as a .tflite flatbuffer that TFLite / LiteRT and TFLite-Micro load.
// lower.ts maps the graph to TFLite tensors and builtin operators (NHWC, int8, per-tensor); flatbuffer.ts writes them.

import { writeFileAtomic } from '../../fs-atomic.js';
import type { QuantizedGraph } from '../../ir/quantized-graph.js';
import { serializeTflite } from './flatbuffer.js';
import { lowerToTflite } from './lower-graph.js';
import type { TfliteExportOptions } from './lowering-state.js';

export type { TfliteExportOptions } from './lowering-state.js';

/** The .tflite bytes of a quantized graph. */
export function tfliteBytes(q: QuantizedGraph, options: TfliteExportOptions): Uint8Array {
  return serializeTflite(lowerToTflite(q, options));
}

/** Writes the .tflite file atomically (nothing is written when the graph cannot be exported). */
export async function exportTflite(q: QuantizedGraph, output: string, options: TfliteExportOptions): Promise<string[]> {
  writeFileAtomic(output, tfliteBytes(q, options));
  return [output];
}
