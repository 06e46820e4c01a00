import { requireInput, type OpContract } from './contract.js';

/** Shape(X) → int64 [rank]; folded to a constant once X's shape is static (see passes/fold-constants). */
export const shape: OpContract = {
  op: 'Shape',
  minInputs: 1,
  maxInputs: 1,
  infer: (node, inputs) => [{ dtype: 'int64', shape: [requireInput(node, inputs, 0).shape.length] }],
};
