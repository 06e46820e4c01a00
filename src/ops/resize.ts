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
    if (sizes && sizes.length > 0) return [{ dtype: x.dtype, shape: sizes }];
    if (!scales || scales.length !== x.shape.length)
      return nodeError(node, 'needs constant scales (one per dim) or sizes');
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : scales[i] === 1 ? d : `${node.outputs[0]}:${i}`)) }];
  },
};
