import { intAttr, requireInput, type OpContract } from './contract.js';
import { require4d, window2d, windowShape } from './window.js';

/**
 * AveragePool(X[N,C,H,W]) → [N,C,H',W'].
 * Attributes: kernel, strides, pads [t,l,b,r], ceilMode, countIncludePad (padding counted in the divisor).
 */
export const averagePool: OpContract = {
  op: 'AveragePool',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = require4d(node, requireInput(node, inputs, 0), 'input X');
    return [{ dtype: 'float32', shape: windowShape(node, x, x[1], window2d(node), intAttr(node, 'ceilMode', 0) === 1) }];
  },
};
