import type { Dim } from '../ir/shape.js';
import { normalizeAxis } from '../ir/shape.js';
import { intAttr, requireInput, type OpContract } from './contract.js';
import { resolveReshape } from './reshape-math.js';

function flattenDims(shape: readonly Dim[], axis: number): Dim[] {
  const a = normalizeAxis(axis, shape.length);
  const outer = a === 0 ? [1] : resolveReshape(shape.slice(0, a), [-1], false)!;
  const inner = a === shape.length ? [1] : resolveReshape(shape.slice(a), [-1], false)!;
  return [outer[0], inner[0]];
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
