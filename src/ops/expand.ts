import { allocate, toNumbers } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { broadcastShapes, formatShape, sizeOf, type Dim } from '../ir/shape.js';
import { broadcastIndex } from './elementwise.js';
import { nodeError, requireInput, type InputInfo, type OpContract } from './contract.js';

function expandedShape(node: Node, x: InputInfo, target: InputInfo): Dim[] {
  if (!target.data)
    return nodeError(node, 'the shape input is computed at run time; flexq needs it constant (an initializer, a Constant or a foldable shape computation)');
  const dims = toNumbers(target.data);
  const shape = broadcastShapes(x.shape, dims);
  if (!shape) return nodeError(node, `input ${formatShape(x.shape)} does not broadcast to [${dims}]`);
  return shape;
}

/** Expand(X, shape): X broadcast (numpy rules, both ways) with the constant `shape`. */
export const expand: OpContract = {
  op: 'Expand',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    return [{ dtype: x.dtype, shape: expandedShape(node, x, requireInput(node, inputs, 1)) }];
  },
  evaluate(node, [x, target]) {
    const shape = expandedShape(node, x!, target!) as number[];
    const from = broadcastIndex(x!.shape, shape);
    const out = allocate(x!.dtype, sizeOf(shape)) as unknown as number[];
    const src = x!.data as unknown as number[];
    for (let i = 0; i < out.length; i++) out[i] = src[from(i)];
    return [{ dtype: x!.dtype, shape, data: out as never }];
  },
};
