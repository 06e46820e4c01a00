import { intAttr, nodeError, requireInput, type OpContract } from './contract.js';

/**
 * LRN(X) on NCHW, across channels: y = x / (bias + alpha/size · Σ x²)^beta, the sum over channels
 * c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉. Attributes: size, alpha (1e-4), beta (0.75), bias (1).
 */
export const lrn: OpContract = {
  op: 'LRN',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    if (x.shape.length !== 4) return nodeError(node, `expected a rank-4 NCHW input, found rank ${x.shape.length}`);
    if (intAttr(node, 'size') < 1) return nodeError(node, `size ${intAttr(node, 'size')} must be ≥ 1`);
    return [x];
  },
};
