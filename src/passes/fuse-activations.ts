import { rebuildGraph } from '../ir/build.js';
import { toNumbers } from '../ir/dtype.js';
import { consumers, producers, type Graph, type Node } from '../ir/graph.js';
import { soleConsumer } from './rewrite.js';

/** The activation a Conv/Gemm can absorb from the node that alone reads its output, if any. */
function absorbable(n: Node): 'relu' | 'relu6' | undefined {
  if (n.op === 'Relu') return 'relu';
  if (n.op !== 'Clip' || n.attrs.min !== 0) return undefined;
  if (n.attrs.max === 6) return 'relu6';
  return n.attrs.max === Infinity ? 'relu' : undefined;
}

function scalar(graph: Graph, name: string): number | undefined {
  const d = graph.values.get(name)?.data;
  return d && d.length === 1 ? toNumbers(d)[0] : undefined;
}

/** The operand of a commutative binary node other than `one`. */
function other(n: Node, one: string): string | undefined {
  return n.inputs[0] === one ? n.inputs[1] : n.inputs[1] === one ? n.inputs[0] : undefined;
}

/**
 * Matches hard-swish written out, returning x and the nodes it spans:
 *   x · clip(x + 3, 0, 6) / 6  (or · 1/6)  → HardSwish(x)
 *   x · HardSigmoid(x; α = 1/6, β = 1/2)    → HardSwish(x)
 */
function matchHardSwish(graph: Graph, made: Map<string, Node>, readers: Map<string, Node[]>, last: Node): { x: string; nodes: Node[] } | undefined {
  const sole = (v: string) => soleConsumer(graph, readers, v);
  if (last.op === 'Div' || last.op === 'Mul') {
    const k = scalar(graph, last.inputs[1]);
    const inner = made.get(last.inputs[0]);
    if (inner?.op === 'Mul' && sole(inner.outputs[0]) === last && k !== undefined && Math.abs((last.op === 'Div' ? 1 / k : k) - 1 / 6) < 1e-6) {
      for (const gate of inner.inputs) {
        const clip = made.get(gate);
        const add = clip && made.get(clip.inputs[0]);
        if (clip?.op !== 'Clip' || clip.attrs.min !== 0 || clip.attrs.max !== 6 || add?.op !== 'Add') continue;
        const x = other(inner, gate)!;
        if (other(add, x) === undefined || scalar(graph, other(add, x)!) !== 3 || sole(clip.outputs[0]) !== inner || sole(add.outputs[0]) !== clip) continue;
        return { x, nodes: [add, clip, inner, last] };
      }
    }
  }
  if (last.op !== 'Mul') return undefined;
  for (const gate of last.inputs) {
    const hs = made.get(gate);
    if (hs?.op !== 'HardSigmoid' || Math.abs(Number(hs.attrs.alpha) - 1 / 6) > 1e-6 || Number(hs.attrs.beta) !== 0.5) continue;
    if (other(last, gate) === hs.inputs[0] && sole(gate) === last) return { x: hs.inputs[0], nodes: [hs, last] };
  }
  return undefined;
}

/**
 * Fuses activations: conv/gemm → relu ⇒ conv[activation=relu], → clip(0,6) ⇒ conv[activation=relu6];
 * spelled-out hard-swish patterns ⇒ HardSwish.
 */
export function fuseActivations(graph: Graph): Graph {
  const readers = consumers(graph);
  const made = producers(graph);
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const n of graph.nodes) {
    if (removed.has(n)) continue;
    const hs = matchHardSwish(graph, made, readers, n);
    if (hs) {
      hs.nodes.forEach((m) => removed.add(m));
      replaced.set(n, { name: `${n.name}:hardswish`, op: 'HardSwish', inputs: [hs.x], outputs: [n.outputs[0]], attrs: {} });
    }
  }
  for (const n of graph.nodes) {
    if ((n.op !== 'Conv' && n.op !== 'Gemm') || (n.attrs.activation ?? 'none') !== 'none') continue;
    const act = soleConsumer(graph, readers, n.outputs[0]);
    const kind = act && !removed.has(act) ? absorbable(act) : undefined;
    if (!act || !kind) continue;
    removed.add(act);
    replaced.set(n, { ...n, outputs: [act.outputs[0]], attrs: { ...n.attrs, activation: kind } });
  }
  if (removed.size === 0) return graph;
  const nodes = graph.nodes.flatMap((n) => (replaced.has(n) ? [replaced.get(n)!] : removed.has(n) ? [] : [n]));
  return rebuildGraph(graph, nodes);
}
