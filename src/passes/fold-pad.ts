import { rebuildGraph } from '../ir/build.js';
import { consumers, producers, type Graph, type Node } from '../ir/graph.js';
import { soleConsumer } from './rewrite.js';

/** The [top, left, bottom, right] of a constant zero Pad of an NCHW value that pads H and W only, else undefined. */
function spatialZeroPads(pad: Node): number[] | undefined {
  const pads = pad.attrs.pads as number[] | undefined;
  if ((pad.attrs.mode ?? 'constant') !== 'constant' || (pad.attrs.value ?? 0) !== 0 || pad.inputs.filter((i) => i !== '').length !== 1) return undefined;
  if (!pads || pads.length !== 8 || pads.some((p) => p < 0) || pads[0] || pads[1] || pads[4] || pads[5]) return undefined;
  return [pads[2], pads[3], pads[6], pads[7]];
}

/**
 * Moves an explicit zero padding into the convolution that alone reads it (TFLite's PAD → VALID CONV_2D):
 *   conv(pad(x, p), w, b; pads q) → conv(x, w, b; pads p + q)
 * Exact in floats and in integers: an int8 PAD writes the zero point, which a convolution's padding stands for.
 */
export function foldPad(graph: Graph): Graph {
  const readers = consumers(graph);
  const made = producers(graph);
  const replaced = new Map<Node, Node>();
  const removed = new Set<Node>();
  for (const conv of graph.nodes) {
    if (conv.op !== 'Conv') continue;
    const pad = made.get(conv.inputs[0]);
    const extra = pad?.op === 'Pad' ? spatialZeroPads(pad) : undefined;
    if (!pad || !extra || soleConsumer(graph, readers, conv.inputs[0]) !== conv) continue;
    const own = (conv.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
    replaced.set(conv, { ...conv, inputs: [pad.inputs[0], ...conv.inputs.slice(1)], attrs: { ...conv.attrs, pads: own.map((p, i) => p + extra[i]) } });
    removed.add(pad);
  }
  if (removed.size === 0) return graph;
  return rebuildGraph(graph, graph.nodes.flatMap((n) => (removed.has(n) ? [] : [replaced.get(n) ?? n])));
}
