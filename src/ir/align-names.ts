// Pairs the values of two graphs of the same network (an int8 model another tool converted, imported, against the
// float model it was converted from) and renames the imported QuantizedGraph with the float model's names, so that
// validate compares it layer by layer, and blame reads its weights, exactly as it does a .fq made by flexq.
import { fail } from '../errors.js';
import type { Graph, Node } from './graph.js';
import type { QuantizedGraph } from './quantized-graph.js';

/** Ops that compute the same thing in another spelling: TFLite's pool over the whole plane is ONNX's global pool. */
const SAME_COMPUTATION: readonly (readonly string[])[] = [
  ['GlobalAveragePool', 'AveragePool', 'ReduceMean'],
  ['GlobalMaxPool', 'MaxPool', 'ReduceMax'],
  ['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze'],
];
const familyOf = (op: string): string => SAME_COMPUTATION.find((f) => f.includes(op))?.[0] ?? op;

const isConstant = (g: Graph, v: string): boolean => g.values.get(v)?.data !== undefined;
const shapeKey = (g: Graph, v: string): string => JSON.stringify(g.values.get(v)?.shape);
/** The non-constant inputs of a node (activations), omitted optional inputs left out. */
const activationInputs = (g: Graph, n: Node): string[] => n.inputs.filter((v) => v !== '' && !isConstant(g, v));
const constantShapes = (g: Graph, n: Node): string => n.inputs.filter((v) => v !== '' && isConstant(g, v)).map((v) => shapeKey(g, v)).join();
const sameMultiset = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

export interface GraphCorrespondence {
  /** Value of `other` → value of `reference` (inputs and outputs by position; inner values where nodes pair). */
  readonly values: ReadonlyMap<string, string>;
  /** Node name of `other` → node name of `reference`. */
  readonly nodes: ReadonlyMap<string, string>;
}

/**
 * Pairs `other`'s nodes with `reference`'s: a node pairs with the one unpaired reference node of the same computation
 * that reads the paired activations (in any order: converters swap Add's operands), makes outputs of the same shapes
 * and, for the same op, has constants of the same shapes and the same fused activation. Ambiguous nodes stay unpaired.
 * Graph inputs and outputs pair by position; the caller checks that their shapes agree.
 */
export function pairGraphs(reference: Graph, other: Graph): GraphCorrespondence {
  const values = new Map<string, string>();
  other.inputs.forEach((v, k) => reference.inputs[k] !== undefined && values.set(v, reference.inputs[k]));
  other.outputs.forEach((v, k) => reference.outputs[k] !== undefined && values.set(v, reference.outputs[k]));
  const nodes = new Map<string, string>();
  const unpaired = new Set(reference.nodes);
  for (const n of other.nodes) {
    const reads = activationInputs(other, n).map((v) => values.get(v));
    if (reads.some((v) => v === undefined)) continue;
    const candidates = [...unpaired].filter(
      (m) =>
        familyOf(m.op) === familyOf(n.op) &&
        m.outputs.length === n.outputs.length &&
        m.outputs.every((y, k) => shapeKey(reference, y) === shapeKey(other, n.outputs[k]) && (values.get(n.outputs[k]) ?? y) === y) &&
        sameMultiset(activationInputs(reference, m), reads as string[]) &&
        (m.op !== n.op || (constantShapes(reference, m) === constantShapes(other, n) && m.attrs.activation === n.attrs.activation)),
    );
    if (candidates.length !== 1) continue;
    const m = candidates[0];
    unpaired.delete(m);
    nodes.set(n.name, m.name);
    n.outputs.forEach((y, k) => values.set(y, m.outputs[k]));
    // The same op's weights and biases stand in the same input positions.
    if (m.op === n.op) n.inputs.forEach((v, k) => v !== '' && isConstant(other, v) && m.inputs[k] && values.set(v, m.inputs[k]));
  }
  return { values, nodes };
}

/** A renaming that keeps the names nothing pairs unless they clash with a paired name (then suffixed). */
function renamer(paired: ReadonlyMap<string, string>): (name: string) => string {
  const taken = new Set(paired.values());
  return (name) => {
    const to = paired.get(name);
    if (to !== undefined || !taken.has(name)) return to ?? name;
    let k = 1;
    while (taken.has(`${name}_${k}`)) k++;
    return `${name}_${k}`;
  };
}

/**
 * `q` (an imported int8 model) with `reference`'s value and node names wherever the two graphs pair.
 * Fails when their inputs or outputs differ in number or shape: then `reference` is not the model `q` stands for.
 */
export function alignNames(q: QuantizedGraph, reference: Graph): QuantizedGraph {
  const g = q.graph;
  const ends = (graph: Graph) => `takes ${graph.inputs.map((v) => shapeKey(graph, v)).join(', ')} and gives ${graph.outputs.map((v) => shapeKey(graph, v)).join(', ')}`;
  if (ends(g) !== ends(reference))
    fail('BAD_ARGUMENT', `${g.source} ${ends(g)}, but ${reference.source} ${ends(reference)}: give the float model the int8 model was converted from`);
  const pairs = pairGraphs(reference, g);
  const value = renamer(pairs.values);
  const node = renamer(pairs.nodes);
  const rename = (v: string) => (v === '' ? v : value(v));
  const rekey = <T>(m: ReadonlyMap<string, T>) => new Map([...m].map(([k, x]) => [rename(k), x]));
  return {
    ...q,
    graph: {
      ...g,
      inputs: g.inputs.map(rename),
      outputs: g.outputs.map(rename),
      nodes: g.nodes.map((n) => ({ ...n, name: node(n.name), inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) })),
      values: new Map([...g.values].map(([k, v]) => [rename(k), { ...v, name: rename(k) }])),
    },
    activations: rekey(q.activations),
    weights: rekey(q.weights),
    biases: rekey(q.biases),
  };
}
