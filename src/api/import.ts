// importModel: an ONNX or TFLite file as flexq's graph, as imported and after the pass pipeline, with its summary.
import type { ImportOptions } from '../import/options.js';
import { loadModel, type LoadedModel } from '../load-model.js';
import { summarizeModel, type ModelSummary } from '../model-summary.js';

export interface ImportedModel extends LoadedModel {
  /** Ops, parameters, output shapes and MACs per layer of the optimized graph. */
  readonly summary: ModelSummary;
}

export function importModel(path: string, o: ImportOptions = {}): ImportedModel {
  const loaded = loadModel(path, o);
  return { ...loaded, summary: summarizeModel(loaded.graph) };
}
