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
    if (group < 1) return nodeError(node, `group ${group} must be ≥ 1`);
    if (typeof w[0] === 'number' && w[0] % group !== 0)
      return nodeError(node, `weight W has ${w[0]} output channels, not a multiple of group ${group}`);
    if (typeof x[1] === 'number' && typeof w[1] === 'number' && x[1] !== w[1] * group)
      return nodeError(node, `input has ${x[1]} channels but weight expects ${w[1]} × group ${group}`);
    const win = window2d(node);
    if (typeof w[2] === 'number' && typeof w[3] === 'number' && (w[2] !== win.kernel[0] || w[3] !== win.kernel[1]))
      return nodeError(node, `weight W is [${w}] but the kernel attribute says ${win.kernel.join('x')}`);
    const b = inputs[2];
    if (b && (b.shape.length !== 1 || b.shape[0] !== w[0]))
      return nodeError(node, `bias shape [${b.shape.join(',')}] does not match ${w[0]} output channels`);
    return [{ dtype: 'float32', shape: windowShape(node, x, w[0], win) }];
  },
};
