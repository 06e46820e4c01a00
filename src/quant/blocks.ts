import { consumers, producers, type Graph, type Node } from '../ir/graph.js';
import { intAttr } from '../ops/contract.js';
import { weightedLayers } from './layers.js';
import { isReconstructible } from './node-autodiff.js';

/**
 * A unit of reconstruction: nodes optimised together against the float model's output of the last one.
 * `input` is the one value the unit reads from outside (besides constants).
 */
export interface ReconstructionUnit {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly input: string;
  readonly output: string;
}

export type Granularity = 'layer' | 'block';

/** Values a node reads that something computes (not weights, biases or other constants). */
function dynamicInputs(graph: Graph, node: Node): string[] {
  return node.inputs.filter((v) => v && !graph.values.get(v)?.data);
}

/** Every value computed upstream of `value`, itself included. */
function ancestors(graph: Graph, made: Map<string, Node>, value: string): Set<string> {
  const seen = new Set<string>();
  const stack = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const node = made.get(v);
    if (node) stack.push(...dynamicInputs(graph, node));
  }
  return seen;
}

/**
 * Residual blocks: for an Add of two computed values, the block runs from the nearest value both branches
 * descend from (in graph order, the latest common ancestor) to the Add, with a sole following Relu included.
 */
function residualBlocks(graph: Graph): Node[][] {
  const made = producers(graph);
  const used = consumers(graph);
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  const blocks: Node[][] = [];
  for (const add of graph.nodes) {
    const branches = add.op === 'Add' ? dynamicInputs(graph, add) : [];
    if (branches.length !== 2) continue;
    const [a, b] = branches.map((v) => ancestors(graph, made, v));
    const common = [...a].filter((v) => b.has(v));
    const start = common.reduce<string | undefined>((best, v) => (best === undefined || (order.get(made.get(v)!) ?? -1) > (order.get(made.get(best)!) ?? -1) ? v : best), undefined);
    if (start === undefined) continue;
    const upstream = ancestors(graph, made, start);
    const inside = graph.nodes.filter((n) => n === add || (n.outputs.some((o) => a.has(o) || b.has(o)) && !upstream.has(n.outputs[0])));
    const after = used.get(add.outputs[0]) ?? [];
    if (after.length === 1 && after[0].op === 'Relu') inside.push(after[0]);
    blocks.push(inside);
  }
  return blocks;
}

/** A depthwise convolution whose sole consumer is a pointwise one: MobileNet's and DS-CNN's separable pair. */
function separablePairs(graph: Graph): Node[][] {
  const used = consumers(graph);
  return graph.nodes.flatMap((dw) => {
    if (dw.op !== 'Conv' || intAttr(dw, 'group', 1) === 1) return [];
    const next = used.get(dw.outputs[0]) ?? [];
    if (next.length !== 1 || next[0].op !== 'Conv' || intAttr(next[0], 'group', 1) !== 1) return [];
    const kernel = graph.values.get(next[0].inputs[1])!.shape;
    return kernel[2] === 1 && kernel[3] === 1 ? [[dw, next[0]]] : [];
  });
}

/**
 * The units to reconstruct, in graph order: one per weighted layer, or (block granularity) residual blocks and
 * separable pairs, with every weighted layer outside them a unit of its own.
 */
export function reconstructionUnits(graph: Graph, granularity: Granularity): ReconstructionUnit[] {
  // Layers without reconstruction rules (ConvTranspose) keep their rounding-to-nearest weights.
  const layers = weightedLayers(graph).map((l) => l.node).filter((n) => isReconstructible(n.op));
  const groups: Node[][] = [];
  const taken = new Set<Node>();
  if (granularity === 'block')
    for (const block of [...residualBlocks(graph), ...separablePairs(graph)])
      // A skip connection that joins a second computed value inside the span (a U-Net decoder's Add reading an
      // encoder feature) gives no one-input block: its layers are units of their own.
      if (block.every((n) => !taken.has(n)) && outsideInputs(graph, block).length === 1) {
        groups.push(block);
        block.forEach((n) => taken.add(n));
      }
  for (const layer of layers) if (!taken.has(layer)) groups.push([layer]);
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  return groups
    .map((nodes) => [...nodes].sort((x, y) => order.get(x)! - order.get(y)!))
    .sort((x, y) => order.get(x[0])! - order.get(y[0])!)
    .map((nodes) => unitOf(graph, nodes));
}

/** The computed values `nodes` read that none of them computes. */
function outsideInputs(graph: Graph, nodes: readonly Node[]): string[] {
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  return [...new Set(nodes.flatMap((n) => dynamicInputs(graph, n)).filter((v) => !produced.has(v)))];
}

function unitOf(graph: Graph, nodes: Node[]): ReconstructionUnit {
  const outside = outsideInputs(graph, nodes);
  if (outside.length !== 1) throw new Error(`reconstruction unit ${nodes[0].name}…${nodes.at(-1)!.name} reads ${outside.length} outside values (${outside.join(', ')}); a unit must read one`);
  const last = nodes.at(-1)!;
  return { name: nodes.length === 1 ? last.name : `${nodes[0].name}…${last.name}`, nodes, input: outside[0], output: last.outputs[0] };
}
