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

/**
 * Builds a graph node by node, inferring each output's type and shape as it goes, so an importer
 * can look at the shapes of what it has built so far (ONNX auto_pad needs the input size).
 */
export class GraphBuilder {
  private readonly values = new Map<string, Value>();
  private readonly inputs: string[] = [];
  private readonly nodes: Node[] = [];

  constructor(readonly source: string, readonly name: string) {}

  addInput(v: Value): void {
    this.values.set(v.name, v);
    this.inputs.push(v.name);
  }

  addConstant(v: Value): void {
    this.values.set(v.name, v);
  }

  value(name: string): Value | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Appends a node whose inputs all exist, and records its outputs' inferred types and shapes. */
  addNode(node: Node): void {
    const contract = OPS.get(node.op);
    if (!contract) return checkSupported(this.source, [node]);
    const where = `${this.source}: node '${node.name}' (${node.op})`;
    if (node.inputs.length < contract.minInputs || node.inputs.length > contract.maxInputs)
      fail('MODEL_INVALID', `${where} has ${node.inputs.length} inputs, expected ${contract.minInputs}..${contract.maxInputs}`);
    const inputs: (InputInfo | undefined)[] = node.inputs.map((x) => {
      if (x === '') return undefined;
      const v = this.values.get(x);
      if (!v) fail('MISSING_TENSOR', `${where} reads tensor '${x}', which no earlier node, graph input or initializer provides; the model file is incomplete or not topologically sorted: re-export it`);
      return v;
    });
    const outs = contract.infer(node, inputs);
    node.outputs.forEach((o, i) => {
      if (o !== '' && outs[i]) this.values.set(o, { name: o, dtype: outs[i].dtype, shape: outs[i].shape });
    });
    this.nodes.push(node);
  }

  build(outputs: readonly string[]): Graph {
    for (const o of outputs)
      if (!this.values.has(o)) fail('MISSING_TENSOR', `${this.source}: graph output '${o}' is not produced by any node`);
    return { name: this.name, source: this.source, inputs: [...this.inputs], outputs: [...outputs], nodes: [...this.nodes], values: new Map(this.values) };
  }
}

/** Orders nodes so every input is produced before it is read. Unresolvable nodes are left at the end for GraphBuilder to report. */
function topologicalOrder(known: Set<string>, nodes: readonly Node[]): Node[] {
  const ready = new Set(known);
  const pending = [...nodes];
  const order: Node[] = [];
  for (;;) {
    const i = pending.findIndex((n) => n.inputs.every((x) => x === '' || ready.has(x)));
    if (i < 0) return [...order, ...pending];
    const [n] = pending.splice(i, 1);
    order.push(n);
    for (const o of n.outputs) ready.add(o);
  }
}

/** Lists every op the graph uses that flexq does not know, all at once. */
export function checkSupported(source: string, nodes: readonly Node[]): void {
  const unknown = nodes.filter((n) => !OPS.has(n.op));
  if (unknown.length === 0) return;
  const list = unknown.map((n) => `'${n.name}' (${n.op})`).join(', ');
  fail('UNSUPPORTED_OP', `${source}: ${unknown.length} node(s) use operators flexq does not support: ${list}. Supported: ${[...OPS.keys()].sort().join(', ')}`);
}

/** Builds a graph from a spec: checks ops, orders nodes and infers every value's type and shape. */
export function buildGraph(spec: GraphSpec): Graph {
  checkSupported(spec.source, spec.nodes);
  const builder = new GraphBuilder(spec.source, spec.name);
  for (const v of spec.inputs) builder.addInput(v);
  for (const v of spec.constants) builder.addConstant(v);
  for (const n of topologicalOrder(new Set([...spec.inputs, ...spec.constants].map((v) => v.name)), spec.nodes)) builder.addNode(n);
  return builder.build(spec.outputs);
}

/** Rebuilds a graph after a pass edited its nodes or constants, re-inferring shapes and dropping unused constants. */
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
