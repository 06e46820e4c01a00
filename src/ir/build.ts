import { fail } from '../errors.js';
import { OPS } from '../ops/registry.js';
import type { InputInfo } from '../ops/contract.js';
import type { Graph, Node, Value } from './graph.js';

/** What an importer or pass hands over: values need shapes only for graph inputs and constants. */
export interface GraphSpec {
  readonly name: string;
  readonly source: string;
  readonly inputs: readonly Value[];
  readonly constants: readonly Value[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly string[];
}

/** Orders nodes so every input is produced before it is read; names the node and tensor when one never is. */
function topologicalOrder(source: string, known: Set<string>, nodes: readonly Node[]): Node[] {
  const ready = new Set(known);
  const pending = [...nodes];
  const order: Node[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex((n) => n.inputs.every((x) => x === '' || ready.has(x)));
    if (i < 0) {
      const produced = new Set(pending.flatMap((n) => n.outputs));
      const n = pending.find((p) => p.inputs.some((x) => x !== '' && !ready.has(x) && !produced.has(x))) ?? pending[0];
      const missing = n.inputs.find((x) => x !== '' && !ready.has(x))!;
      return fail(
        'MISSING_TENSOR',
        `${source}: node '${n.name}' (${n.op}) reads tensor '${missing}', which no node, input or initializer provides` +
          (produced.has(missing) ? ' (the graph has a cycle)' : '; the model file is incomplete: re-export it with its weights'),
      );
    }
    const [n] = pending.splice(i, 1);
    order.push(n);
    for (const o of n.outputs) ready.add(o);
  }
  return order;
}

/** Lists every op the graph uses that flexq does not know, all at once. */
export function checkSupported(source: string, nodes: readonly Node[]): void {
  const unknown = nodes.filter((n) => !OPS.has(n.op));
  if (unknown.length === 0) return;
  const list = unknown.map((n) => `'${n.name}' (${n.op})`).join(', ');
  fail('UNSUPPORTED_OP', `${source}: ${unknown.length} node(s) use operators flexq does not support: ${list}. Supported: ${[...OPS.keys()].sort().join(', ')}`);
}

/** Builds a graph: checks ops, orders nodes and infers every value's type and shape. */
export function buildGraph(spec: GraphSpec): Graph {
  checkSupported(spec.source, spec.nodes);
  const values = new Map<string, Value>();
  for (const v of [...spec.inputs, ...spec.constants]) values.set(v.name, v);
  const nodes = topologicalOrder(spec.source, new Set(values.keys()), spec.nodes);
  for (const node of nodes) {
    const contract = OPS.get(node.op)!;
    const present = node.inputs.length;
    if (present < contract.minInputs || present > contract.maxInputs)
      fail('MODEL_INVALID', `${spec.source}: node '${node.name}' (${node.op}) has ${present} inputs, expected ${contract.minInputs}..${contract.maxInputs}`);
    const inputs: (InputInfo | undefined)[] = node.inputs.map((x) => (x === '' ? undefined : values.get(x)));
    const outs = contract.infer(node, inputs);
    node.outputs.forEach((o, i) => {
      if (o !== '' && outs[i]) values.set(o, { name: o, dtype: outs[i].dtype, shape: outs[i].shape });
    });
  }
  for (const o of spec.outputs)
    if (!values.has(o)) fail('MISSING_TENSOR', `${spec.source}: graph output '${o}' is not produced by any node`);
  return { name: spec.name, source: spec.source, inputs: spec.inputs.map((v) => v.name), outputs: spec.outputs, nodes, values };
}

/** Rebuilds a graph after a pass edited its nodes or constants, re-inferring shapes. */
export function rebuildGraph(graph: Graph, nodes: readonly Node[], constants: readonly Value[] = []): Graph {
  const keep = [...graph.values.values()].filter((v) => v.data !== undefined);
  const merged = new Map([...keep, ...constants].map((v) => [v.name, v]));
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs]);
  return buildGraph({
    name: graph.name,
    source: graph.source,
    inputs: graph.inputs.map((i) => graph.values.get(i)!),
    constants: [...merged.values()].filter((v) => used.has(v.name)),
    nodes,
    outputs: graph.outputs,
  });
}
