import { intAttr, nodeError, requireInput, type OpContract } from './contract.js';
import { require4d, window2d, windowShape } from './window.js';

/**
 * Conv(X[N,C,H,W], W[M,C/group,kh,kw], B[M]?) → [N,M,H',W'].
 * Attributes: kernel, strides, pads [t,l,b,r], dilations, group, activation ('none' | 'relu' | 'relu6', set by fusion).
 */
export const conv: OpContract = {
  op: 'Conv',
  minInputs: 2,
  maxInputs: 3,
  infer(node, inputs) {
    const x = require4d(node, requireInput(node, inputs, 0), 'input X');
    const w = require4d(node, requireInput(node, inputs, 1), 'weight W');
    const group = intAttr(node, 'group', 1);
    if (typeof x[1] === 'number' && typeof w[1] === 'number' && x[1] !== w[1] * group)
      return nodeError(node, `input has ${x[1]} channels but weight expects ${w[1]} × group ${group}`);
    const b = inputs[2];
    if (b && (b.shape.length !== 1 || b.shape[0] !== w[0]))
      return nodeError(node, `bias shape [${b.shape.join(',')}] does not match ${w[0]} output channels`);
    return [{ dtype: 'float32', shape: windowShape(node, x, w[0], window2d(node)) }];
  },
};
