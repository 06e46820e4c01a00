import { requireInput, type OpContract } from './contract.js';
import { require4d } from './window.js';

/** GlobalAveragePool(X[N,C,H,W]) → [N,C,1,1]. */
export const globalAveragePool: OpContract = {
  op: 'GlobalAveragePool',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = require4d(node, requireInput(node, inputs, 0), 'input X');
    return [{ dtype: 'float32', shape: [x[0], x[1], 1, 1] }];
  },
};
