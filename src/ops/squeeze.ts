import { checkedAxis, intsAttr, nodeError, requireInput, type OpContract } from './contract.js';
import type { Node } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';

function squeezed(node: Node, shape: readonly Dim[]): Dim[] {
  const axes = intsAttr(node, 'axes', shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => checkedAxis(node, a, shape.length, 'squeeze axis'));
  for (const a of axes) if (shape[a] !== 1) return nodeError(node, `cannot squeeze axis ${a} of size ${shape[a]}`);
  return shape.filter((_, i) => !axes.includes(i));
}

/** Squeeze(X): removes size-1 axes. Attribute: axes (all size-1 axes when absent). */
export const squeeze: OpContract = {
  op: 'Squeeze',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    return [{ dtype: x.dtype, shape: squeezed(node, x.shape) }];
  },
  evaluate: (node, [x]) => [{ ...x!, shape: squeezed(node, x!.shape) as number[] }],
};
