import { OPS } from '../ops/registry.js';
import type { Graph } from './graph.js';
import { formatShape } from './shape.js';

/**
 * Checks a graph's invariants and returns every problem found (empty when sound):
 * known ops and arity, single producers, inputs defined before use, outputs present,
 * and stored shapes equal to re-inferred ones. Tests run it after every pass.
 */
export function verifyGraph(graph: Graph): string[] {
  const problems: string[] = [];
  const defined = new Set<string>(graph.inputs);
  for (const v of graph.values.values()) if (v.data) defined.add(v.name);
  for (const node of graph.nodes) {
    const where = `node '${node.name}' (${node.op})`;
    const contract = OPS.get(node.op);
    if (!contract) {
      problems.push(`${where}: unknown op`);
      continue;
    }
    if (node.inputs.length < contract.minInputs || node.inputs.length > contract.maxInputs)
      problems.push(`${where}: ${node.inputs.length} inputs, expected ${contract.minInputs}..${contract.maxInputs}`);
    for (const i of node.inputs) if (i !== '' && !defined.has(i)) problems.push(`${where}: input '${i}' is not defined before use`);
    let inferred: ReturnType<typeof contract.infer> | undefined;
    try {
      inferred = contract.infer(node, node.inputs.map((i) => (i === '' ? undefined : graph.values.get(i))));
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
    node.outputs.forEach((o, k) => {
      if (defined.has(o)) problems.push(`${where}: output '${o}' is produced twice`);
      defined.add(o);
      const stored = graph.values.get(o);
      if (!stored) problems.push(`${where}: output '${o}' has no value entry`);
      else if (inferred?.[k] && formatShape(inferred[k].shape) !== formatShape(stored.shape))
        problems.push(`${where}: output '${o}' is stored as ${formatShape(stored.shape)} but infers to ${formatShape(inferred[k].shape)}`);
    });
  }
  for (const o of graph.outputs) if (!defined.has(o)) problems.push(`graph output '${o}' is never produced`);
  return problems;
}
