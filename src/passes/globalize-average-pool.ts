import { rebuildGraph } from '../ir/build.js';
import type { Graph, Node } from '../ir/graph.js';

/** Whether an AveragePool's one window covers its whole (static) H×W input with no padding. */
function coversWholeInput(graph: Graph, pool: Node): boolean {
  const [, , h, w] = graph.values.get(pool.inputs[0])?.shape ?? [];
  const kernel = pool.attrs.kernel as readonly number[] | undefined;
  const pads = (pool.attrs.pads as readonly number[] | undefined) ?? [0, 0, 0, 0];
  return typeof h === 'number' && typeof w === 'number' && kernel?.[0] === h && kernel?.[1] === w && pads.every((p) => p === 0);
}

/**
 * An average pool whose one window is the whole input is the spatial mean (Keras' AveragePooling2D in
 * squeeze-excite blocks): AveragePool(x; kernel = H×W, pads 0) → GlobalAveragePool(x).
 * Same floats; the integer difference is the reason: an int8 AVERAGE_POOL_2D keeps its input's grid, which for
 * the mean of a sparse hard-swish map spends most levels on values the mean never reaches, while the mean
 * (TFLite MEAN, ONNX QLinearGlobalAveragePool) gets its own output grid.
 */
export function globalizeAveragePool(graph: Graph): Graph {
  if (!graph.nodes.some((n) => n.op === 'AveragePool' && coversWholeInput(graph, n))) return graph;
  const nodes = graph.nodes.map((n) => (n.op === 'AveragePool' && coversWholeInput(graph, n) ? { name: n.name, op: 'GlobalAveragePool', inputs: [n.inputs[0]], outputs: n.outputs, attrs: {} } : n));
  return rebuildGraph(graph, nodes);
}
