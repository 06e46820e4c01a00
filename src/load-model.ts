import type { Graph } from './ir/graph.js';
import { importModel, type ImportOptions, type ModelFormat } from './import/index.js';
import { optimizeGraph } from './passes/pipeline.js';

export interface LoadedModel {
  readonly path: string;
  readonly format: ModelFormat;
  /** The graph exactly as the file states it. */
  readonly imported: Graph;
  /** After the pass pipeline (batch freed, constants folded, BN folded, activations fused): what flexq runs and quantizes. */
  readonly graph: Graph;
}

export function loadModel(path: string, options: ImportOptions = {}): LoadedModel {
  const { graph: imported, format } = importModel(path, options);
  return { path, format, imported, graph: optimizeGraph(imported) };
}
