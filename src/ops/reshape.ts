import { toNumbers } from '../ir/dtype.js';
import { isStatic, sizeOf } from '../ir/shape.js';
import { intAttr, nodeError, requireInput, type OpContract } from './contract.js';
import { resolveReshape } from './reshape-math.js';

/**
 * Reshape(X, shape[int64]): 0 copies a dim of X (unless allowzero), −1 is inferred.
 * When `shape` is not constant yet (a Shape/Slice/Concat chain), the output dims are symbols until folding.
 */
export const reshape: OpContract = {
  op: 'Reshape',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const s = requireInput(node, inputs, 1);
    if (!s.data) {
      const rank = s.shape[0];
      if (typeof rank !== 'number') return nodeError(node, 'the rank of the target shape is unknown');
      return [{ dtype: x.dtype, shape: Array.from({ length: rank }, (_, i) => `${node.outputs[0]}:${i}`) }];
    }
    const target = toNumbers(s.data);
    const allowZero = intAttr(node, 'allowzero', 0) === 1;
    const bad = target.findIndex((t, i) => !Number.isSafeInteger(t) || t < -1 || (t === 0 && !allowZero && i >= x.shape.length));
    if (bad >= 0 || target.filter((t) => t === -1).length > 1)
      return nodeError(node, `target shape [${target}] is not valid for input [${x.shape}]: expected dims ≥ 0, at most one −1, and 0 only where the input has a dim`);
    const shape = resolveReshape(x.shape, target, allowZero);
    if (shape && isStatic(shape) && isStatic(x.shape) && (sizeOf(shape) !== sizeOf(x.shape) || !shape.every(Number.isInteger)))
      return nodeError(node, `cannot reshape [${x.shape}] (${sizeOf(x.shape)} elements) to [${shape}]`);
    return [{ dtype: x.dtype, shape: shape ?? target.map((t, i) => (t === -1 ? `${node.outputs[0]}:${i}` : t)) }];
  },
  evaluate(node, [x, s]) {
    const shape = resolveReshape(x!.shape, toNumbers(s!.data), intAttr(node, 'allowzero', 0) === 1) as number[];
    return [{ ...x!, shape }];
  },
};
