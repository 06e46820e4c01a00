import { broadcastShapes } from '../ir/shape.js';
import { nodeError, requireInput, type OpContract } from './contract.js';

/** MatMul(A[..., M, K], B[..., K, N]) → [..., M, N] with numpy semantics (1-D operands promoted). */
export const matmul: OpContract = {
  op: 'MatMul',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const a = requireInput(node, inputs, 0).shape;
    const b = requireInput(node, inputs, 1).shape;
    if (a.length === 0 || b.length === 0) return nodeError(node, `A [${a}] and B [${b}] must have rank ≥ 1`);
    const a2 = a.length === 1 ? [1, a[0]] : a;
    const b2 = b.length === 1 ? [b[0], 1] : b;
    const k1 = a2[a2.length - 1];
    const k2 = b2[b2.length - 2];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2)
      return nodeError(node, `inner dimensions differ: A [${a}] and B [${b}]`);
    const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
    if (!batch) return nodeError(node, `batch dimensions of [${a}] and [${b}] do not broadcast`);
    const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
    if (a.length === 1) out.splice(out.length - 2, 1);
    if (b.length === 1) out.pop();
    return [{ dtype: 'float32', shape: out }];
  },
};
