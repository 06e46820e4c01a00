import { fail, FlexqError } from '../errors.js';
import { OPS } from '../ops/registry.js';
import type { InputInfo, OpContract, OutputInfo } from '../ops/contract.js';
import { constantOutputs } from '../ops/evaluate.js';
import type { Graph, Node, Value } from './graph.js';
import { checkShape, shapeProblem } from './limits.js';
import { formatShape, isStatic, sizeOf } from './shape.js';

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

  /**
   * With `foldConstants`, a node computable before run time (see constantOutputs) becomes constants instead of a
   * node, so an importer's later rules see those values as constant operands (PyTorch's pads, scales and shapes
   * are often computed from initializers and static shapes).
   */
  constructor(readonly source: string, readonly name: string, private readonly options: { readonly foldConstants?: boolean } = {}) {}

  /** Adds a graph input; its dims must be ≥ 1 (or symbols) and within flexq's limits (src/ir/limits.ts). */
  addInput(v: Value): void {
    checkShape(v.shape, `${this.source}: graph input '${v.name}'`, { minDim: 1 });
    this.values.set(v.name, v);
    this.inputs.push(v.name);
  }

  /** Adds a constant; its shape must be static, within the limits, and hold exactly as many values as `data`. */
  addConstant(v: Value): void {
    const where = `${this.source}: constant '${v.name}'`;
    checkShape(v.shape, where);
    if (v.data && (!isStatic(v.shape) || sizeOf(v.shape) !== v.data.length))
      fail('MODEL_INVALID', `${where} has shape ${formatShape(v.shape)} but holds ${v.data.length} values; the file is damaged: re-export it`);
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
    const outs = this.infer(contract, node, inputs);
    if (node.outputs.some((o, i) => o !== '' && !outs[i]))
      fail('MODEL_INVALID', `${where} has ${node.outputs.length} outputs [${node.outputs.join(', ')}], but ${node.op} produces ${outs.length}; fix the node or re-export the model`);
    node.outputs.forEach((o, i) => {
      if (o === '') return;
      if (this.values.has(o))
        fail('MODEL_INVALID', `${where} writes '${o}', which ${this.inputs.includes(o) ? 'is a graph input' : 'an earlier node, input or initializer already provides'}; every value must have one producer: re-export the model`);
      const problem = shapeProblem(outs[i].shape);
      if (problem) fail('SHAPE', `${where}: output '${o}': ${problem}; check the node's attributes and input shapes`);
    });
    // Folded only after the outputs passed the size limits, so a hostile constant subgraph cannot allocate without bound.
    const folded = this.options.foldConstants ? this.withFileName(() => constantOutputs(node, inputs)) : undefined;
    node.outputs.forEach((o, i) => {
      if (o !== '') this.values.set(o, folded ? { name: o, ...folded[i] } : { name: o, dtype: outs[i].dtype, shape: outs[i].shape });
    });
    if (!folded) this.nodes.push(node);
  }

  /** Runs shape inference; its errors (which name the node) gain the file's name. */
  private infer(contract: OpContract, node: Node, inputs: readonly (InputInfo | undefined)[]): OutputInfo[] {
    return this.withFileName(() => contract.infer(node, inputs));
  }

  /** Runs an op contract's function; its errors (which name the node) gain the file's name. */
  private withFileName<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof FlexqError && !e.message.startsWith(this.source))
        throw new FlexqError(e.code, `${this.source}: ${e.message}; fix the node's attributes or inputs, or re-export the model`);
      throw e;
    }
  }

  build(outputs: readonly string[]): Graph {
    if (outputs.length === 0) fail('MODEL_INVALID', `${this.source}: the graph has no outputs, so there is nothing to compute or quantize; export the model with its outputs`);
    for (const o of outputs)
      if (!this.values.has(o)) fail('MISSING_TENSOR', `${this.source}: graph output '${o}' is not produced by any node`);
    return { name: this.name, source: this.source, inputs: [...this.inputs], outputs: [...outputs], nodes: [...this.nodes], values: new Map(this.values) };
  }
}

/**
 * Orders nodes so every input is produced before it is read, keeping the given order where it already works
 * (Kahn's algorithm, always taking the earliest ready node: O(n log n), so a graph of 20,000 nodes orders in
 * milliseconds). Unresolvable nodes are left at the end, in their order, for GraphBuilder to report.
 */
function topologicalOrder(known: Set<string>, nodes: readonly Node[]): Node[] {
  const missing = new Int32Array(nodes.length);
  const waiting = new Map<string, number[]>();
  const ready = new MinHeap();
  nodes.forEach((n, i) => {
    for (const x of new Set(n.inputs)) {
      if (x === '' || known.has(x)) continue;
      missing[i]++;
      const list = waiting.get(x);
      if (list) list.push(i);
      else waiting.set(x, [i]);
    }
    if (missing[i] === 0) ready.push(i);
  });
  const produced = new Set<string>();
  const order: Node[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    order.push(nodes[i]);
    for (const o of nodes[i].outputs) {
      if (o === '' || known.has(o) || produced.has(o)) continue;
      produced.add(o);
      for (const j of waiting.get(o) ?? []) if (--missing[j] === 0) ready.push(j);
    }
  }
  if (order.length < nodes.length) nodes.forEach((n, i) => missing[i] > 0 && order.push(n));
  return order;
}

/** A binary min-heap of node indices. */
class MinHeap {
  private readonly items: number[] = [];

  push(v: number): void {
    const a = this.items;
    let i = a.push(v) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= v) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = v;
  }

  pop(): number | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
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
