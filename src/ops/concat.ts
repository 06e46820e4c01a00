import { allocate } from '../ir/dtype.js';
import { sizeOf, type Dim } from '../ir/shape.js';
import { checkedAxis, intAttr, nodeError, requireInput, type OpContract } from './contract.js';

/** Concat(X1, X2, …) along `axis`. */
export const concat: OpContract = {
  op: 'Concat',
  minInputs: 1,
  maxInputs: Infinity,
  infer(node, inputs) {
    const xs = inputs.map((_, i) => requireInput(node, inputs, i));
    const axis = checkedAxis(node, intAttr(node, 'axis'), xs[0].shape.length);
    let total: Dim = 0;
    for (const x of xs) {
      if (x.shape.length !== xs[0].shape.length) return nodeError(node, 'inputs have different ranks');
      if (x.dtype !== xs[0].dtype) return nodeError(node, `input types differ: ${xs[0].dtype} and ${x.dtype}`);
      const other = x.shape.findIndex((d, k) => k !== axis && typeof d === 'number' && typeof xs[0].shape[k] === 'number' && d !== xs[0].shape[k]);
      if (other >= 0) return nodeError(node, `inputs [${xs[0].shape}] and [${x.shape}] differ in dim ${other}, which is not the concat axis ${axis}`);
      const d = x.shape[axis];
      total = typeof total === 'number' && typeof d === 'number' ? total + d : `${node.outputs[0]}:${axis}`;
    }
    const shape = [...xs[0].shape];
    shape[axis] = total;
    return [{ dtype: xs[0].dtype, shape }];
  },
  evaluate(node, inputs) {
    const xs = inputs.map((x) => x!);
    const axis = checkedAxis(node, intAttr(node, 'axis'), xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
    const outer = sizeOf(shape.slice(0, axis));
    const out = allocate(xs[0].dtype, sizeOf(shape)) as unknown as number[];
    let o = 0;
    for (let i = 0; i < outer; i++)
      for (const x of xs) {
        const chunk = sizeOf(x.shape.slice(axis));
        const src = x.data as unknown as number[];
        for (let j = 0; j < chunk; j++) out[o++] = src[i * chunk + j];
      }
    return [{ dtype: xs[0].dtype, shape, data: out as never }];
  },
};
