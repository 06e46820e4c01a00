import { toNumbers } from '../ir/dtype.js';
import { nodeError, requireInput, type OpContract } from './contract.js';

/**
 * Resize(X, roi?, scales?, sizes?) on NCHW, with constant scales or sizes.
 * Attributes: mode ('nearest' | 'linear'), coordinateTransformationMode, nearestMode.
 */
export const resize: OpContract = {
  op: 'Resize',
  minInputs: 1,
  maxInputs: 4,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const sizes = inputs[3]?.data ? toNumbers(inputs[3].data) : undefined;
    const scales = inputs[2]?.data ? toNumbers(inputs[2].data) : undefined;
    if (sizes && sizes.length > 0) {
      if (sizes.length !== x.shape.length || sizes.some((d) => !Number.isSafeInteger(d) || d < 1))
        return nodeError(node, `sizes [${sizes}] must give one integer ≥ 1 per dim of [${x.shape}]`);
      return [{ dtype: x.dtype, shape: sizes }];
    }
    if (!scales || scales.length !== x.shape.length)
      return nodeError(node, 'needs constant scales (one per dim) or sizes');
    if (scales.some((f) => !Number.isFinite(f) || f <= 0)) return nodeError(node, `scales [${scales}] must be finite and > 0`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : scales[i] === 1 ? d : `${node.outputs[0]}:${i}`)) }];
  },
};
