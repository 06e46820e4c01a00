import { normalizeAxis, productDim, type Dim } from '../ir/shape.js';
import { intAttr, requireInput, type OpContract } from './contract.js';

function flattenDims(shape: readonly Dim[], axis: number): Dim[] {
  const a = normalizeAxis(axis, shape.length);
  return [productDim(shape.slice(0, a)), productDim(shape.slice(a))];
}

/** Flatten(X) → 2-D [prod(dims before axis), prod(dims from axis)]. Attribute: axis (1). */
export const flatten: OpContract = {
  op: 'Flatten',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    return [{ dtype: x.dtype, shape: flattenDims(x.shape, intAttr(node, 'axis', 1)) }];
  },
  evaluate: (node, [x]) => [{ ...x!, shape: flattenDims(x!.shape, intAttr(node, 'axis', 1)) as number[] }],
};
