import { rebuildGraph } from '../ir/build.js';
import { fromNumbers, toNumbers } from '../ir/dtype.js';
import { pruneGraph, type Graph, type Node, type Value } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';
import { constantOutputs } from '../ops/evaluate.js';

/**
 * Shape arithmetic on partly symbolic values: Shape(x) is known as dims even when x's batch is a symbol 'N',
 * and Cast/Identity/(Un)Squeeze/Gather/Slice/Concat carry those dims along, so `Reshape(x, Concat(Slice(Shape(x)), [-1]))`
 * (PaddleOCR's flatten) and `Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))` (PyTorch's) become `Reshape(x, [0, -1])`.
 */
type ShapeValues = Map<string, Dim[]>;

function symbolicShapeOp(n: Node, known: ShapeValues, graph: Graph, consts: Map<string, Value>): Dim[] | undefined {
  const dims = (name: string): Dim[] | undefined => {
    const c = consts.get(name);
    return known.get(name) ?? (c?.data && c.shape.length === 1 ? toNumbers(c.data) : undefined);
  };
  switch (n.op) {
    case 'Shape':
      return [...graph.values.get(n.inputs[0])!.shape];
    case 'Cast':
    case 'Identity':
    case 'Squeeze':
    case 'Unsqueeze':
      return known.get(n.inputs[0]);
    case 'Gather': {
      // PyTorch's x.size(0): Gather(Shape(x), 0).
      const src = known.get(n.inputs[0]);
      const indices = consts.get(n.inputs[1])?.data;
      if (!src || !indices || Number(n.attrs.axis ?? 0) !== 0) return undefined;
      const picked = toNumbers(indices).map((i) => src[i < 0 ? i + src.length : i]);
      return picked.every((d) => d !== undefined) ? picked : undefined;
    }
    case 'Slice': {
      const src = known.get(n.inputs[0]);
      const [starts, ends, axes, steps] = n.inputs.slice(1).map((i) => (i ? consts.get(i)?.data : undefined));
      if (!src || !starts || !ends || (axes && Number(axes[0]) !== 0) || (steps && Number(steps[0]) !== 1)) return undefined;
      const len = src.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
      return src.slice(clamp(Number(starts[0])), clamp(Number(ends[0])));
    }
    case 'Concat': {
      const parts = n.inputs.map(dims);
      return parts.every((p) => p !== undefined) ? parts.flat() as Dim[] : undefined;
    }
    default:
      return undefined;
  }
}

/** A Reshape target with symbols written as ONNX's 0 (copy the input dim) or −1 (the rest), when that is exact. */
function reshapeTarget(input: readonly Dim[], target: readonly Dim[]): number[] | undefined {
  const symbolic = target.map((d, i) => typeof d === 'string' && d !== input[i]);
  if (symbolic.filter(Boolean).length > 1 || (symbolic.some(Boolean) && target.includes(-1))) return undefined;
  return target.map((d, i) => (typeof d === 'number' ? d : d === input[i] ? 0 : -1));
}

/**
 * Evaluates every node computable before run time (`f(c1, c2) → c`, Shape of a static shape: constantOutputs),
 * and resolves symbolic shape chains that feed a Reshape. Repeats until nothing changes.
 */
export function foldConstants(graph: Graph): Graph {
  const consts = new Map<string, Value>([...graph.values].filter(([, v]) => v.data));
  const known: ShapeValues = new Map();
  const kept: Node[] = [];
  for (const n of graph.nodes) {
    const outs = constantOutputs(n, n.inputs.map((i) => (i === '' ? undefined : consts.get(i) ?? graph.values.get(i))));
    if (outs) {
      n.outputs.forEach((o, k) => consts.set(o, { name: o, ...outs[k] }));
      continue;
    }
    const dims = symbolicShapeOp(n, known, graph, consts);
    if (dims) known.set(n.outputs[0], dims);
    if (n.op === 'Reshape' && known.has(n.inputs[1])) {
      const target = reshapeTarget(graph.values.get(n.inputs[0])!.shape, known.get(n.inputs[1])!);
      if (target) {
        const name = `${n.outputs[0]}:shape`;
        consts.set(name, { name, dtype: 'int64', shape: [target.length], data: fromNumbers('int64', target) });
        kept.push({ ...n, inputs: [n.inputs[0], name] });
        continue;
      }
    }
    kept.push(n);
  }
  if (kept.length === graph.nodes.length && kept.every((n, i) => n === graph.nodes[i])) return graph;
  // The Shape/Slice/Concat nodes whose results were folded are no longer read: prune them.
  return pruneGraph(rebuildGraph(graph, kept, [...consts.values()]));
}
