import { fromNumbers } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { isStatic } from '../ir/shape.js';
import type { ConstTensor, InputInfo } from './contract.js';
import { OPS } from './registry.js';

/**
 * The outputs of a node that can be computed before run time, or undefined: every input is a constant and the
 * op can evaluate itself (OpContract.evaluate), or the node is Shape of a value whose shape is static (Shape
 * reads no data, only the shape inference already knows). One rule for every op: importers and passes fold with it.
 */
export function constantOutputs(node: Node, inputs: readonly (InputInfo | undefined)[]): ConstTensor[] | undefined {
  if (node.op === 'Shape') {
    const x = inputs[0];
    return x && isStatic(x.shape) ? [{ dtype: 'int64', shape: [x.shape.length], data: fromNumbers('int64', x.shape) }] : undefined;
  }
  const contract = OPS.get(node.op);
  if (!contract?.evaluate || node.inputs.some((name, i) => name !== '' && !inputs[i]?.data)) return undefined;
  return contract.evaluate(node, inputs.map((v) => (v ? { dtype: v.dtype, shape: v.shape as number[], data: v.data! } : undefined)));
}
