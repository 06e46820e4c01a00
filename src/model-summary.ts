import type { Graph, Node } from './ir/graph.js';
import type { Shape } from './ir/shape.js';

export interface LayerSummary {
  readonly name: string;
  readonly op: string;
  readonly output: Shape;
  readonly params: number;
  /** Multiply-accumulates per sample (batch 1); 0 for ops without a weight. */
  readonly macs: number;
  readonly attrs: Node['attrs'];
}

export interface ModelSummary {
  readonly inputs: { name: string; shape: Shape; dtype: string }[];
  readonly outputs: { name: string; shape: Shape }[];
  readonly ops: Record<string, number>;
  readonly params: number;
  readonly macs: number;
  readonly layers: LayerSummary[];
}

const count = (shape: Shape): number => shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);

/** MACs of one sample: output elements × products per element, for the ops that multiply by weights. */
function macsOf(graph: Graph, n: Node): number {
  const out = graph.values.get(n.outputs[0])!.shape;
  const w = graph.values.get(n.inputs[1])?.shape;
  if (!w) return 0;
  if (n.op === 'Conv') return count(out.slice(1)) * count(w.slice(1));
  if (n.op === 'ConvTranspose') return count(graph.values.get(n.inputs[0])!.shape.slice(1)) * count(w.slice(1));
  if (n.op === 'Gemm' || n.op === 'MatMul') {
    const a = graph.values.get(n.inputs[0])!.shape;
    const k = n.op === 'Gemm' && n.attrs.transA === 1 ? a[0] : a[a.length - 1];
    return count(out.slice(1)) * (typeof k === 'number' ? k : 1);
  }
  return 0;
}

/** Ops, parameters, shapes and MACs per layer, for `flexq inspect`. */
export function summarizeModel(graph: Graph): ModelSummary {
  const layers = graph.nodes.map((n) => ({
    name: n.name,
    op: n.op,
    output: graph.values.get(n.outputs[0])!.shape,
    // Resize's float inputs (roi, scales) say how to resample, they are not learned parameters.
    params: n.op === 'Resize' ? 0 : n.inputs.slice(1).reduce((s, i) => s + (graph.values.get(i)?.dtype === 'float32' ? (graph.values.get(i)?.data?.length ?? 0) : 0), 0),
    macs: macsOf(graph, n),
    attrs: n.attrs,
  }));
  const ops: Record<string, number> = {};
  for (const n of graph.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
  return {
    inputs: graph.inputs.map((i) => ({ name: i, shape: graph.values.get(i)!.shape, dtype: graph.values.get(i)!.dtype })),
    outputs: graph.outputs.map((o) => ({ name: o, shape: graph.values.get(o)!.shape })),
    ops,
    params: layers.reduce((s, l) => s + l.params, 0),
    macs: layers.reduce((s, l) => s + l.macs, 0),
    layers,
  };
}
