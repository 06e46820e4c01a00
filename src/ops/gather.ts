import { allocate, toNumbers } from '../ir/dtype.js';
import { sizeOf, type Dim } from '../ir/shape.js';
import type { Node } from '../ir/graph.js';
import { checkedAxis, intAttr, nodeError, requireInput, type ConstTensor, type InputInfo, type OpContract } from './contract.js';

/** Gather's indices resolved to [0, dim) (negative ones count from the end); an error when one is out of range. */
export function gatherIndices(node: Node, indices: InputInfo | ConstTensor, dim: Dim): number[] {
  const raw = toNumbers(indices.data!);
  if (typeof dim !== 'number') return raw;
  const bad = raw.find((i) => !Number.isSafeInteger(i) || i < -dim || i >= dim);
  if (bad !== undefined) return nodeError(node, `index ${bad} is out of range for an axis of size ${dim}; expected ${-dim}..${dim - 1}`);
  return raw.map((i) => (i < 0 ? i + dim : i));
}

/** Gather(data, indices) along attribute `axis` (0): output dims are data[:axis] + indices' dims + data[axis+1:]. */
export const gather: OpContract = {
  op: 'Gather',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const indices = requireInput(node, inputs, 1);
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') return nodeError(node, `indices must be int64 or int32, found ${indices.dtype}`);
    const axis = checkedAxis(node, intAttr(node, 'axis', 0), x.shape.length);
    if (indices.data) gatherIndices(node, indices, x.shape[axis]);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)] }];
  },
  evaluate(node, [x, indices]) {
    const axis = checkedAxis(node, intAttr(node, 'axis', 0), x!.shape.length);
    const picked = gatherIndices(node, indices!, x!.shape[axis]);
    const inner = sizeOf(x!.shape.slice(axis + 1));
    const outer = sizeOf(x!.shape.slice(0, axis));
    const shape = [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)];
    const out = allocate(x!.dtype, sizeOf(shape)) as unknown as number[];
    const src = x!.data as unknown as number[];
    let o = 0;
    for (let i = 0; i < outer; i++)
      for (const j of picked) for (let k = 0; k < inner; k++) out[o++] = src[(i * x!.shape[axis] + j) * inner + k];
    return [{ dtype: x!.dtype, shape, data: out as never }];
  },
};
