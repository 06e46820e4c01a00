import { rebuildGraph } from '../ir/build.js';
import type { Graph, Node, Value } from '../ir/graph.js';
import { consumers, nameAllocator, producers } from '../ir/graph.js';
import { intAttr } from '../ops/contract.js';
import { soleConsumer } from './rewrite.js';

interface BnParams { readonly scale: Float32Array; readonly shift: Float32Array }

/** Per-channel y = x·scale + shift of an inference BatchNormalization: scale = γ/√(var+ε), shift = β − μ·scale. */
function bnParams(graph: Graph, bn: Node): BnParams | undefined {
  const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((i) => graph.values.get(i)?.data as Float32Array | undefined);
  if (!gamma || !beta || !mean || !variance) return undefined;
  const eps = Number(bn.attrs.epsilon ?? 1e-5);
  const scale = gamma.map((g, c) => g / Math.sqrt(variance[c] + eps));
  const shift = beta.map((b, c) => b - mean[c] * scale[c]);
  return { scale, shift };
}

/** The weight layout's output-channel axis for the layer types BN folds into. */
function outputAxisOf(layer: Node): 0 | 1 | undefined {
  if (layer.op === 'Conv') return 0;
  // ConvTranspose's weight is [Cin, Cout/group, kH, kW]: with one group, axis 1 is the output channel.
  if (layer.op === 'ConvTranspose' && intAttr(layer, 'group', 1) === 1) return 1;
  if (layer.op === 'Gemm' && intAttr(layer, 'transA', 0) === 0) return intAttr(layer, 'transB', 0) === 1 ? 0 : 1;
  return undefined;
}

/** W scaled per output channel: the channel of element i is ⌊i / (size of the dims after `axis`)⌋ mod channels. */
function scaleWeight(w: Value, axis: 0 | 1, scale: Float32Array): Float32Array {
  const data = w.data as Float32Array;
  const channels = w.shape[axis] as number;
  const inner = (w.shape.slice(axis + 1) as number[]).reduce((a, b) => a * b, 1);
  return data.map((v, i) => v * scale[Math.floor(i / inner) % channels]);
}

/**
 * Folds inference BatchNormalization:
 *   BN(conv(x, W) + b) → conv(x, W·γ/σ) + (b − μ)·γ/σ + β   (also Gemm per output feature, ConvTranspose per output channel),
 *   a standalone BN → x·scale + shift as Mul and Add with [C,1,…] constants.
 */
export function foldBatchNorm(graph: Graph): Graph {
  const readers = consumers(graph);
  const producerOf = producers(graph);
  const constants: Value[] = [];
  const replaced = new Map<Node, Node[]>();
  const dropped = new Set<Node>();
  const fresh = nameAllocator(graph);
  for (const bn of graph.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const p = bnParams(graph, bn);
    if (!p) continue;
    const layer = producerOf.get(bn.inputs[0]);
    const axis = layer && outputAxisOf(layer);
    const w = layer && graph.values.get(layer.inputs[1]);
    if (layer && axis !== undefined && w?.data && soleConsumer(graph, readers, bn.inputs[0]) === bn && !replaced.has(layer)) {
      const bias = layer.inputs[2] ? (graph.values.get(layer.inputs[2])?.data as Float32Array | undefined) : new Float32Array(p.scale.length);
      if (!bias) continue;
      const wName = fresh(`${layer.inputs[1]}:bn`);
      const bName = fresh(`${bn.name}:bias`);
      constants.push({ name: wName, dtype: 'float32', shape: w.shape, data: scaleWeight(w, axis, p.scale) });
      constants.push({ name: bName, dtype: 'float32', shape: [p.scale.length], data: bias.map((b, c) => b * p.scale[c] + p.shift[c]) });
      replaced.set(layer, [{ ...layer, inputs: [layer.inputs[0], wName, bName], outputs: [bn.outputs[0]] }]);
      dropped.add(bn);
      continue;
    }
    const rank = graph.values.get(bn.inputs[0])!.shape.length;
    const perChannel = [p.scale.length, ...Array(Math.max(rank - 2, 0)).fill(1)];
    const [sName, tName, mid] = [fresh(`${bn.name}:scale`), fresh(`${bn.name}:shift`), fresh(`${bn.name}:scaled`)];
    constants.push({ name: sName, dtype: 'float32', shape: perChannel, data: p.scale }, { name: tName, dtype: 'float32', shape: perChannel, data: p.shift });
    replaced.set(bn, [
      { name: `${bn.name}:mul`, op: 'Mul', inputs: [bn.inputs[0], sName], outputs: [mid], attrs: {} },
      { name: `${bn.name}:add`, op: 'Add', inputs: [mid, tName], outputs: [bn.outputs[0]], attrs: {} },
    ]);
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.flatMap((n) => (dropped.has(n) ? [] : replaced.get(n) ?? [n]));
  return rebuildGraph(graph, nodes, constants);
}
