import { rebuildGraph } from '../ir/build.js';
import { consumers, type Graph, type Node } from '../ir/graph.js';
import { formatShape } from '../ir/shape.js';
import { outputSet, rewireInputs } from './rewrite.js';

/** A node that passes its first input through unchanged: Identity, a Cast to the same type, a Reshape/Flatten to the same shape. */
function isNoOp(graph: Graph, n: Node): boolean {
  const x = graph.values.get(n.inputs[0]);
  const y = graph.values.get(n.outputs[0]);
  if (!x || !y) return false;
  if (n.op === 'Identity') return true;
  if (n.op === 'Cast') return x.dtype === y.dtype;
  if (n.op === 'Reshape' || n.op === 'Flatten' || n.op === 'Squeeze' || n.op === 'Unsqueeze') return formatShape(x.shape) === formatShape(y.shape);
  return false;
}

/** A Transpose that moves only size-1 axes keeps the element order: to readers that see only that order, a no-op. */
function isOrderKeepingTranspose(graph: Graph, n: Node, readers: ReadonlyMap<string, Node[]>): boolean {
  const x = graph.values.get(n.inputs[0]);
  const perm = n.attrs.perm as number[] | undefined;
  if (n.op !== 'Transpose' || !x || !perm) return false;
  const moved = perm.filter((axis) => x.shape[axis] !== 1);
  const inOrder = moved.every((axis, i) => i === 0 || moved[i - 1] < axis);
  const users = readers.get(n.outputs[0]) ?? [];
  return inOrder && users.length > 0 && users.every((u) => (u.op === 'Reshape' || u.op === 'Flatten') && u.inputs[0] === n.outputs[0]);
}

/**
 * Removes no-op nodes: `identity(x) → x`, `reshape(transpose(x)) → reshape(x)` when the transpose moves only size-1 axes. When the no-op's output is a graph output, the value it reads
 * takes the output's name instead (unless that value is a graph input or constant, then the node stays).
 */
export function eliminateIdentities(graph: Graph): Graph {
  const replace = new Map<string, string>();
  const rename = new Map<string, string>();
  const kept: Node[] = [];
  const outputs = outputSet(graph);
  const inputs = new Set(graph.inputs);
  const readers = consumers(graph);
  for (const n of graph.nodes) {
    if (isOrderKeepingTranspose(graph, n, readers) && !outputs.has(n.outputs[0])) {
      replace.set(n.outputs[0], n.inputs[0]);
      continue;
    }
    if (!isNoOp(graph, n)) {
      kept.push(n);
      continue;
    }
    const [x, y] = [n.inputs[0], n.outputs[0]];
    if (!outputs.has(y)) replace.set(y, x);
    else if (!inputs.has(x) && !graph.values.get(x)?.data && !outputs.has(x)) rename.set(x, y);
    else kept.push(n);
  }
  if (replace.size === 0 && rename.size === 0) return graph;
  const renamed = kept.map((n) => ({
    ...n,
    inputs: n.inputs.map((i) => rename.get(i) ?? i),
    outputs: n.outputs.map((o) => rename.get(o) ?? o),
  }));
  return rebuildGraph(graph, rewireInputs(renamed, new Map([...replace].map(([k, v]) => [k, rename.get(v) ?? v]))));
}
