// Transpose of the per-sample axes on one grid. Contract: y[i0, …] = x[i_perm⁻¹…], the integers unchanged (data
// movement keeps the input's grid in every mode); the batch axis must stay first.

import { intsAttr } from '../../src/ops/contract.js';
import { sizeOf } from '../../src/ir/shape.js';
import { checkSameGrid } from './average-pool.js';
import type { KernelFactory } from './kernel.js';
import { gatherCopy } from './reshape.js';

/** For each output element (row-major over `shape` permuted by `perm`), its offset in the input. */
export function transposeSources(shape: readonly number[], perm: readonly number[]): Int32Array {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, k) => sizeOf(shape.slice(k + 1)));
  const source = new Int32Array(sizeOf(shape));
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < source.length; i++) {
    let off = 0;
    for (let k = 0; k < outShape.length; k++) off += idx[k] * strides[perm[k]];
    source[i] = off;
    for (let k = outShape.length - 1; k >= 0 && ++idx[k] === outShape[k]; k--) idx[k] = 0;
  }
  return source;
}

export const transposeKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  const shape = ctx.inputShape(0);
  const perm = intsAttr(ctx.node, 'perm', [...shape, 0].map((_, i) => shape.length - i));
  if (perm[0] !== 0) ctx.unsupported(`perm [${perm.join(',')}] moves the batch axis; the integer runtime transposes the axes of one sample only`);
  const source = transposeSources(shape, perm.slice(1).map((p) => p - 1));
  const size = source.length;
  return (inputs, batch, output) => gatherCopy(source, size, 0, inputs[0], batch, output);
};
