// exportModel: a quantized graph (or an .fq file) written in one deployable format by the target that owns it.
import { fail } from '../errors.js';
import { checkQuantizedGraph } from '../quant/check-quantized-graph.js';
import { existsSync } from 'node:fs';
import { readModelFile } from '../import/index.js';
import { isFq, readFq } from '../quant/fq-file.js';
import { openArtefact, quantizedGraphOf } from './executors.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import type { ExportOptions } from '../target.js';
import { exporterFor } from './registry.js';

export interface ExportModelOptions extends Partial<ExportOptions> {
  /** A format some target exports: 'onnx-qdq', 'tflite', 'c', … (registry.exportFormats()). */
  readonly format: string;
  /** The file, or the folder for folder formats (c). */
  readonly output: string;
}

/** The quantized graph of an .fq, or of an int8 model another tool made (imported); other files are refused. */
function readQuantized(path: string): QuantizedGraph {
  if (!existsSync(path) || isFq(readModelFile(path))) return readFq(path);
  return quantizedGraphOf(openArtefact(path)) ?? fail('BAD_ARGUMENT', `${path}: a float model; export takes an .fq ('flexq quantize' makes one) or an int8 model`);
}

/** Writes `quantized` (a QuantizedGraph, an .fq path or an int8 model's path) in `format`; returns the paths written. */
export function exportModel(quantized: QuantizedGraph | string, o: ExportModelOptions): Promise<string[]> {
  const exporter = exporterFor(o.format);
  const io = o.io ?? 'float';
  if (io !== 'int8' && io !== 'float') fail('BAD_ARGUMENT', `io '${String(io)}': expected int8 or float`);
  const q = typeof quantized === 'string' ? readQuantized(quantized) : quantized;
  // Every exporter writes the graph's integers and scales as they are: they are checked once, here.
  checkQuantizedGraph(q, typeof quantized === 'string' ? quantized : q.graph.source);
  return exporter(q, o.output, { io, force: o.force, source: o.source, flavour: o.flavour });
}
