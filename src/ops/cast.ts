import { fromNumbers, toNumbers, type DType } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { nodeError, requireInput, stringAttr, type OpContract } from './contract.js';

const DTYPES: readonly DType[] = ['float32', 'int64', 'int32', 'int8', 'uint8', 'bool'];

function castTarget(node: Node): DType {
  const to = stringAttr(node, 'to');
  if (!(DTYPES as readonly string[]).includes(to)) return nodeError(node, `'to' is '${to}'; expected one of ${DTYPES.join(', ')}`);
  return to as DType;
}

/** Cast(X) to the type named by attribute `to` (a flexq DType). */
export const cast: OpContract = {
  op: 'Cast',
  minInputs: 1,
  maxInputs: 1,
  infer: (node, inputs) => [{ dtype: castTarget(node), shape: requireInput(node, inputs, 0).shape }],
  evaluate(node, [x]) {
    const to = stringAttr(node, 'to') as DType;
    return [{ dtype: to, shape: x!.shape, data: fromNumbers(to, toNumbers(x!.data)) }];
  },
};
