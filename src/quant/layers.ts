import type { Graph, Node } from '../ir/graph.js';

/** A layer with a constant weight that quantization rounds: Conv, ConvTranspose, Gemm, or MatMul by a constant. */
export interface WeightedLayer {
  readonly node: Node;
  readonly weight: string;
  readonly bias?: string;
}

const WEIGHTED_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export function weightedLayers(graph: Graph): WeightedLayer[] {
  return graph.nodes.flatMap((node) => {
    if (!WEIGHTED_OPS.has(node.op)) return [];
    const w = graph.values.get(node.inputs[1]);
    if (!w?.data || w.dtype !== 'float32') return [];
    const b = node.op !== 'MatMul' && node.inputs[2] ? node.inputs[2] : undefined;
    return [{ node, weight: node.inputs[1], ...(b && graph.values.get(b)?.data ? { bias: b } : {}) }];
  });
}

/**
 * Bit width per weighted layer: `wbits` everywhere except the first and last layer, which keep
 * `edgeBits` (8 by default, as the FlexRound paper and most PTQ work do).
 */
export function layerBits(layers: readonly WeightedLayer[], wbits: number, edgeBits: number): Map<string, number> {
  return new Map(layers.map((l, i) => [l.node.name, i === 0 || i === layers.length - 1 ? Math.max(wbits, edgeBits) : wbits]));
}
