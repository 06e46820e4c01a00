import type { Graph, Node } from '../ir/graph.js';


/** Replaces reads of values by other values, as a rule rewrites `y = f(x)` → `x`. */
export function rewireInputs(nodes: readonly Node[], replace: ReadonlyMap<string, string>): Node[] {
  const resolve = (x: string): string => {
    let seen = x;
    while (replace.has(seen)) seen = replace.get(seen)!;
    return seen;
  };
  return nodes.map((n) => (n.inputs.some((i) => replace.has(i)) ? { ...n, inputs: n.inputs.map(resolve) } : n));
}

/** The node that alone reads `value`, when `value` is not also a graph output. */
export function soleConsumer(graph: Graph, readers: ReadonlyMap<string, Node[]>, value: string): Node | undefined {
  const r = readers.get(value);
  return r && r.length === 1 && !graph.outputs.includes(value) ? r[0] : undefined;
}

