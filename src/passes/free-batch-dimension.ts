import { rebuildGraph } from '../ir/build.js';
import { fromNumbers, toNumbers } from '../ir/dtype.js';
import type { Graph, Node, Value } from '../ir/graph.js';

export const BATCH = 'N';

/**
 * Makes dim 0 of every graph input the symbolic batch 'N', so one graph runs any batch size.
 * A constant Reshape target that spells out the old batch size in dim 0 of a batch-carrying input
 * becomes 0 (copy the dim): reshape(x[1,16,4,4], [1,256]) → reshape(x[N,16,4,4], [0,256]).
 */
export function freeBatchDimension(graph: Graph): Graph {
  const inputs = graph.inputs.map((i) => graph.values.get(i)!);
  if (inputs.every((v) => v.shape.length === 0 || v.shape[0] === BATCH)) return graph;
  const batch = new Map(inputs.map((v) => [v.name, v.shape[0]]));
  const freed: Value[] = inputs.map((v) => (v.shape.length > 0 ? { ...v, shape: [BATCH, ...v.shape.slice(1)] } : v));
  const constants: Value[] = [];
  const fixedBatch = [...batch.values()].find((b) => typeof b === 'number');
  const nodes: Node[] = graph.nodes.map((n) => {
    const target = n.op === 'Reshape' ? graph.values.get(n.inputs[1]) : undefined;
    if (!target?.data) return n;
    const dims = toNumbers(target.data);
    if (dims[0] !== fixedBatch || graph.values.get(n.inputs[0])!.shape[0] !== fixedBatch) return n;
    const name = `${n.outputs[0]}:batch-free-shape`;
    constants.push({ name, dtype: 'int64', shape: [dims.length], data: fromNumbers('int64', [0, ...dims.slice(1)]) });
    return { ...n, inputs: [n.inputs[0], name] };
  });
  return rebuildGraph({ ...graph, values: new Map([...graph.values, ...freed.map((v) => [v.name, v] as const)]) }, nodes, constants);
}
