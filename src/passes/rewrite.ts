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

const OUTPUT_SETS = new WeakMap<Graph, ReadonlySet<string>>();

/** The graph's outputs as a set, made once per graph (passes ask per node; a list search would be quadratic). */
export function outputSet(graph: Graph): ReadonlySet<string> {
  let set = OUTPUT_SETS.get(graph);
  if (!set) OUTPUT_SETS.set(graph, (set = new Set(graph.outputs)));
  return set;
}

/** The node that alone reads `value`, when `value` is not also a graph output. */
export function soleConsumer(graph: Graph, readers: ReadonlyMap<string, Node[]>, value: string): Node | undefined {
  const r = readers.get(value);
  return r && r.length === 1 && !outputSet(graph).has(value) ? r[0] : undefined;
}

