import type { Dim } from '../ir/shape.js';
import { checkedAxis, intsAttr, nodeError, requireInput, type OpContract } from './contract.js';
import type { Node } from '../ir/graph.js';

function unsqueezed(node: Node, shape: readonly Dim[]): Dim[] {
  const rank = shape.length + intsAttr(node, 'axes').length;
  const axes = intsAttr(node, 'axes').map((a) => checkedAxis(node, a, rank, 'unsqueeze axis'));
  if (new Set(axes).size !== axes.length) return nodeError(node, `axes [${intsAttr(node, 'axes')}] name an output axis twice`);
  const rest = [...shape];
  return Array.from({ length: rank }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
}

/** Unsqueeze(X): inserts size-1 axes at the output positions in attribute `axes`. */
export const unsqueeze: OpContract = {
  op: 'Unsqueeze',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    return [{ dtype: x.dtype, shape: unsqueezed(node, x.shape) }];
  },
  evaluate: (node, [x]) => [{ ...x!, shape: unsqueezed(node, x!.shape) as number[] }],
};
