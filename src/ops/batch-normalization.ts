import { nodeError, requireInput, type OpContract } from './contract.js';

/**
 * BatchNormalization(X[N,C,...], scale[C], B[C], mean[C], var[C]), inference form:
 * Y = (X − mean) / sqrt(var + epsilon) · scale + B. Attribute: epsilon.
 */
export const batchNormalization: OpContract = {
  op: 'BatchNormalization',
  minInputs: 5,
  maxInputs: 5,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const channels = x.shape[1];
    if (x.shape.length < 2) return nodeError(node, `input X [${x.shape}] must have a channel axis (rank ≥ 2)`);
    for (const [i, role] of ['scale', 'B', 'mean', 'var'].entries()) {
      const p = requireInput(node, inputs, i + 1).shape;
      if (p.length !== 1 || (typeof channels === 'number' && typeof p[0] === 'number' && p[0] !== channels))
        return nodeError(node, `${role} has shape [${p}], expected [${channels}] (one per channel of X)`);
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
};
