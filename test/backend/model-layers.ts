// The convolution and matrix-product layers of a real model, as the shapes a TensorBackend call gets at a batch size.
import type { ConvParams } from '../../src/backend/backend.js';
import type { Graph } from '../../src/ir/graph.js';
import { window2d } from '../../src/ops/window.js';
import { weightedLayers } from '../../src/quant/layers.js';

export type LayerCall =
  | { readonly name: string; readonly kind: 'conv'; readonly x: number[]; readonly w: number[]; readonly p: ConvParams }
  | { readonly name: string; readonly kind: 'gemm'; readonly x: number[]; readonly w: number[] };

const fixed = (shape: readonly (number | string)[], batch: number): number[] => shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : NaN));

/** Every Conv / Gemm / MatMul with a constant weight, with x at `batch` and w as the backend takes it (OIHW, or [N, K]). */
export function layerCalls(graph: Graph, batch: number): LayerCall[] {
  return weightedLayers(graph).map(({ node, weight }): LayerCall => {
    const x = fixed(graph.values.get(node.inputs[0])!.shape, batch);
    const w = [...(graph.values.get(weight)!.shape as number[])];
    if (node.op === 'Conv') {
      const win = window2d(node);
      return { name: node.name, kind: 'conv', x, w, p: { strides: win.strides, pads: win.pads, dilations: win.dilations, group: Number(node.attrs.group ?? 1) } };
    }
    const transposed = node.op === 'Gemm' && Number(node.attrs.transB ?? 0) === 1;
    return { name: node.name, kind: 'gemm', x, w: transposed ? w : [w[1], w[0]] };
  });
}
