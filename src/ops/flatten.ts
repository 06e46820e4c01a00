import type { Node } from '../ir/graph.js';
import { productDim, type Dim } from '../ir/shape.js';
import { checkedAxis, intAttr, requireInput, type OpContract } from './contract.js';

function flattenDims(node: Node, shape: readonly Dim[], axis: number): Dim[] {
  // Flatten's axis may equal the rank (everything goes to the first dim).
  const a = axis === shape.length ? axis : checkedAxis(node, axis, shape.length);
  return [productDim(shape.slice(0, a)), productDim(shape.slice(a))];
}

/** Flatten(X) → 2-D [prod(dims before axis), prod(dims from axis)]. Attribute: axis (1). */
export const flatten: OpContract = {
  op: 'Flatten',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    return [{ dtype: x.dtype, shape: flattenDims(node, x.shape, intAttr(node, 'axis', 1)) }];
  },
  evaluate: (node, [x]) => [{ ...x!, shape: flattenDims(node, x!.shape, intAttr(node, 'axis', 1)) as number[] }],
};
