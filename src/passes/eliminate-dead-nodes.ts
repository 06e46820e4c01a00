import { pruneGraph, type Graph } from '../ir/graph.js';

/**
 * Removes nodes no graph output depends on, and constants nothing reads: `y = f(x)`, y unread → ∅.
 * One backward sweep, so a file with thousands of dead nodes costs what its live part costs in every later pass.
 */
export function eliminateDeadNodes(graph: Graph): Graph {
  const pruned = pruneGraph(graph);
  return pruned.nodes.length === graph.nodes.length && pruned.values.size === graph.values.size ? graph : pruned;
}
