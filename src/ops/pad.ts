import { intsAttr, nodeError, requireInput, type OpContract } from './contract.js';

/**
 * Pad(X). Attributes: pads (ONNX order [x1_begin, x2_begin, …, x1_end, x2_end, …]),
 * mode ('constant' | 'reflect' | 'edge'), value (the constant).
 */
export const pad: OpContract = {
  op: 'Pad',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const pads = intsAttr(node, 'pads');
    const r = x.shape.length;
    if (pads.length !== 2 * r) return nodeError(node, `pads has ${pads.length} entries, expected ${2 * r} for rank ${r}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + r] : d)) }];
  },
};
