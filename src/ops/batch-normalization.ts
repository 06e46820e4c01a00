import { requireInput, type OpContract } from './contract.js';

/**
 * BatchNormalization(X[N,C,...], scale[C], B[C], mean[C], var[C]), inference form:
 * Y = (X − mean) / sqrt(var + epsilon) · scale + B. Attribute: epsilon.
 */
export const batchNormalization: OpContract = {
  op: 'BatchNormalization',
  minInputs: 5,
  maxInputs: 5,
  infer: (node, inputs) => [requireInput(node, inputs, 0)],
};
