import { intAttr, requireInput, type OpContract } from './contract.js';
import { require4d, window2d, windowShape } from './window.js';

/** MaxPool(X[N,C,H,W]) → [N,C,H',W']. Attributes: kernel, strides, pads [t,l,b,r], dilations, ceilMode. */
export const maxPool: OpContract = {
  op: 'MaxPool',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = require4d(node, requireInput(node, inputs, 0), 'input X');
    return [{ dtype: 'float32', shape: windowShape(node, x, x[1], window2d(node), intAttr(node, 'ceilMode', 0) === 1) }];
  },
};
