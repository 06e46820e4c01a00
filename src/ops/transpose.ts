import { allocate } from '../ir/dtype.js';
import { sizeOf } from '../ir/shape.js';
import { intsAttr, nodeError, requireInput, type ConstTensor, type OpContract } from './contract.js';

/** Transpose(X): output dim i is input dim perm[i]. Attribute: perm (reversed dims when absent). */
export const transpose: OpContract = {
  op: 'Transpose',
  minInputs: 1,
  maxInputs: 1,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const perm = intsAttr(node, 'perm', x.shape.map((_, i) => x.shape.length - 1 - i));
    if (perm.length !== x.shape.length || new Set(perm).size !== perm.length || perm.some((p) => p < 0 || p >= perm.length))
      return nodeError(node, `perm ${JSON.stringify(perm)} is not a permutation of the ${x.shape.length} axes`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  evaluate: (node, [x]) => [transposeConst(x!, intsAttr(node, 'perm', x!.shape.map((_, i) => x!.shape.length - 1 - i)))],
};

/** Permutes the axes of a constant; used by importers and passes to re-lay weights. */
export function transposeConst(x: ConstTensor, perm: readonly number[]): ConstTensor {
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = x.shape.map((_, k) => sizeOf(x.shape.slice(k + 1)));
  const out = allocate(x.dtype, x.data.length);
  const src = x.data as unknown as ArrayLike<number>;
  const dst = out as unknown as number[];
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let k = 0; k < shape.length; k++) off += idx[k] * inStrides[perm[k]];
    dst[i] = src[off];
    for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
  }
  return { dtype: x.dtype, shape, data: out };
}
