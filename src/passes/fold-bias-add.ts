import { rebuildGraph } from '../ir/build.js';
import { consumers, nameAllocator, producers, type Graph, type Node, type Value } from '../ir/graph.js';
import { sizeOf } from '../ir/shape.js';
import { soleConsumer } from './rewrite.js';

/** The per-channel vector of a constant that broadcasts along one axis only ([C,1,1] for conv, [N] or [1,N] for matmul). */
function channelVector(v: Value | undefined, channels: number, shapes: readonly (readonly number[])[]): Float32Array | undefined {
  if (!v?.data || v.dtype !== 'float32') return undefined;
  const shape = v.shape as number[];
  return shapes.some((s) => s.length === shape.length && s.every((d, i) => d === shape[i])) && sizeOf(shape) === channels
    ? (v.data as Float32Array)
    : undefined;
}

/**
 * Moves a constant bias add into the layer before it, so every layer carries its own bias:
 *   conv(x, w, b) + c[C,1,1] → conv(x, w, b + c)
 *   matmul(x, W[K,N]) + c[N]  → gemm(x, W, c)
 */
export function foldBiasAdd(graph: Graph): Graph {
  const readers = consumers(graph);
  const made = producers(graph);
  const fresh = nameAllocator(graph);
  const constants: Value[] = [];
  const replaced = new Map<Node, Node>();
  const removed = new Set<Node>();
  for (const add of graph.nodes) {
    if (add.op !== 'Add') continue;
    for (const k of [0, 1]) {
      const layer = made.get(add.inputs[k]);
      if (!layer || replaced.has(layer) || soleConsumer(graph, readers, add.inputs[k]) !== add) continue;
      const w = graph.values.get(layer.inputs[1]);
      const other = graph.values.get(add.inputs[1 - k]);
      if (layer.op === 'Conv' && (layer.attrs.activation ?? 'none') === 'none' && w?.data) {
        const channels = w.shape[0] as number;
        const c = channelVector(other, channels, [[channels, 1, 1], [1, channels, 1, 1]]);
        if (!c) continue;
        const old = layer.inputs[2] ? (graph.values.get(layer.inputs[2])!.data as Float32Array) : new Float32Array(channels);
        const name = fresh(`${layer.name}:bias`);
        constants.push({ name, dtype: 'float32', shape: [channels], data: old.map((b, i) => b + c[i]) });
        replaced.set(layer, { ...layer, inputs: [layer.inputs[0], layer.inputs[1], name], outputs: add.outputs });
      } else if (layer.op === 'MatMul' && w?.data && w.shape.length === 2 && graph.values.get(layer.inputs[0])!.shape.length === 2) {
        const n = w.shape[1] as number;
        const c = channelVector(other, n, [[n], [1, n]]);
        if (!c) continue;
        const name = fresh(`${layer.name}:bias`);
        constants.push({ name, dtype: 'float32', shape: [n], data: c });
        replaced.set(layer, { name: layer.name, op: 'Gemm', inputs: [layer.inputs[0], layer.inputs[1], name], outputs: add.outputs, attrs: { alpha: 1, beta: 1, transA: 0, transB: 0 } });
      } else continue;
      removed.add(add);
      break;
    }
  }
  if (removed.size === 0) return graph;
  const nodes = graph.nodes.flatMap((n) => (removed.has(n) ? [] : [replaced.get(n) ?? n]));
  return rebuildGraph(graph, nodes, constants);
}
