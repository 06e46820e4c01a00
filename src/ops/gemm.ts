import { intAttr, nodeError, requireInput, type OpContract } from './contract.js';

/**
 * Gemm(A, B, C?) = alpha·op(A)·op(B) + beta·C, op = transpose when transA/transB is 1.
 * Attributes: alpha, beta, transA, transB, activation ('none' | 'relu' | 'relu6', set by fusion).
 */
export const gemm: OpContract = {
  op: 'Gemm',
  minInputs: 2,
  maxInputs: 3,
  infer(node, inputs) {
    const a = requireInput(node, inputs, 0).shape;
    const b = requireInput(node, inputs, 1).shape;
    if (a.length !== 2 || b.length !== 2) return nodeError(node, `A and B must be 2-D, found [${a}] and [${b}]`);
    const c = inputs[2];
    if (c && c.shape.length > 2) return nodeError(node, `C [${c.shape}] must have rank ≤ 2`);
    const [m, ka] = intAttr(node, 'transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
    const [kb, n] = intAttr(node, 'transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
    if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb)
      return nodeError(node, `inner dimensions differ: A gives ${ka}, B gives ${kb}`);
    return [{ dtype: 'float32', shape: [m, n] }];
  },
};
