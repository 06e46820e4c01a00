import { fromNumbers, toNumbers, type DType } from '../ir/dtype.js';
import { requireInput, stringAttr, type OpContract } from './contract.js';

/** Cast(X) to the type named by attribute `to` (a flexq DType). */
export const cast: OpContract = {
  op: 'Cast',
  minInputs: 1,
  maxInputs: 1,
  infer: (node, inputs) => [{ dtype: stringAttr(node, 'to') as DType, shape: requireInput(node, inputs, 0).shape }],
  evaluate(node, [x]) {
    const to = stringAttr(node, 'to') as DType;
    return [{ dtype: to, shape: x!.shape, data: fromNumbers(to, toNumbers(x!.data)) }];
  },
};
