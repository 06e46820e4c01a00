import { readFileSync, statSync } from 'node:fs';
import { fail } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { importOnnx } from './onnx/import-onnx.js';
import type { ImportOptions } from './options.js';
import { importTflite } from './tflite/import-tflite.js';

export type { ImportOptions };
export type ModelFormat = 'onnx' | 'tflite';

/** TFLite flatbuffers carry the file identifier "TFL3" at byte 4; anything else is tried as ONNX protobuf. */
export function detectFormat(bytes: Uint8Array): ModelFormat {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(4, 8)) === 'TFL3' ? 'tflite' : 'onnx';
}

export function readModelFile(path: string): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return fail('FILE_NOT_FOUND', `${path}: no such model file; give the path of an .onnx or .tflite model`);
  }
  if (size === 0) return fail('MODEL_PARSE', `${path}: the file is empty; expected an .onnx or .tflite model`);
  return readFileSync(path);
}

/** Reads and imports a model file (ONNX or float TFLite) into the IR, exactly as the file states it. */
export function importModel(path: string, options: ImportOptions = {}): { graph: Graph; format: ModelFormat } {
  const bytes = readModelFile(path);
  const format = detectFormat(bytes);
  const graph = format === 'tflite' ? importTflite(bytes, path, options) : importOnnx(bytes, path, options);
  return { graph, format };
}
