import type { DType, TensorData } from './dtype.js';
import type { Shape } from './shape.js';

/** A value flowing through the graph: a graph input, a node output, or a constant (with data). */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data?: TensorData;
}

export type AttrValue = number | string | readonly number[] | readonly string[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** An operation. `op` names an op contract in src/ops; an empty input name marks an omitted optional input. */
export interface Node {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
}

/** A dataflow graph in NCHW layout. Nodes are kept in topological order. */
export interface Graph {
  readonly name: string;
  /** Where the graph came from (a file path), for error messages. */
  readonly source: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly nodes: readonly Node[];
  readonly values: ReadonlyMap<string, Value>;
}

/** Map from value name to the nodes that read it (graph outputs are not included). */
export function consumers(graph: Graph): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  for (const n of graph.nodes)
    for (const i of n.inputs) {
      if (i === '') continue;
      const readers = out.get(i);
      if (readers) readers.push(n); // push, not spread: a value read by many nodes must stay linear
      else out.set(i, [n]);
    }
  return out;
}

export function producers(graph: Graph): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) out.set(o, n);
  return out;
}

/** Drops nodes whose outputs nothing needs and values nothing references. */
export function pruneGraph(graph: Graph): Graph {
  const needed = new Set(graph.outputs);
  const nodes: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => needed.has(o))) continue;
    nodes.push(n);
    for (const x of n.inputs) if (x !== '') needed.add(x);
  }
  nodes.reverse();
  for (const i of graph.inputs) needed.add(i);
  const values = new Map([...graph.values].filter(([k]) => needed.has(k)));
  return { ...graph, nodes, values };
}

/** Returns a function that hands out value names not used in `graph` nor handed out before, derived from a base. */
export function nameAllocator(graph: Graph): (base: string) => string {
  const used = new Set(graph.values.keys());
  // The next suffix to try per base, so asking for the same base n times costs O(n), not O(n²).
  const next = new Map<string, number>();
  return (base) => {
    let name = base;
    let k = next.get(base) ?? 1;
    while (used.has(name)) name = `${base}_${k++}`;
    next.set(base, k);
    used.add(name);
    return name;
  };
}
