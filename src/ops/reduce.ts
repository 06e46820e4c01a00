import type { Node } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';
import { checkedAxis, intAttr, intsAttr, nodeError, requireInput, type OpContract } from './contract.js';

/** The reduced axes in [0, rank): attribute `axes`, all axes when absent. */
export function reduceAxes(node: Node, rank: number): number[] {
  const axes = intsAttr(node, 'axes', Array.from({ length: rank }, (_, i) => i)).map((a) => checkedAxis(node, a, rank, 'reduce axis'));
  if (new Set(axes).size !== axes.length) return nodeError(node, `axes [${axes}] name an axis twice`);
  return axes;
}

/** Contract of a reduction (ReduceMean, ReduceMax, ReduceSum). Attributes: axes (all), keepdims (1). */
export function reduceContract(op: string): OpContract {
  return {
    op,
    minInputs: 1,
    maxInputs: 1,
    infer(node, inputs) {
      const x = requireInput(node, inputs, 0);
      const axes = reduceAxes(node, x.shape.length);
      const keep = intAttr(node, 'keepdims', 1) === 1;
      const shape: Dim[] = x.shape.flatMap((d, i) => (!axes.includes(i) ? [d] : keep ? [1] : []));
      return [{ dtype: x.dtype, shape }];
    },
  };
}
