import { fromNumbers, toNumbers, type DType } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { sizeOf } from '../ir/shape.js';
import { nodeError, requireInput, stringAttr, type InputInfo, type OpContract } from './contract.js';

const DTYPES: readonly DType[] = ['float32', 'int64', 'int32', 'int8', 'uint8', 'bool'];

function fillType(node: Node): DType {
  const dtype = stringAttr(node, 'dtype', 'float32');
  if (!(DTYPES as readonly string[]).includes(dtype)) return nodeError(node, `'dtype' is '${dtype}'; expected one of ${DTYPES.join(', ')}`);
  return dtype as DType;
}

/** The output shape, which must be known when the graph is built: the shape input has to be constant. */
function outputShape(node: Node, shape: InputInfo): number[] {
  if (!shape.data)
    return nodeError(node, 'the shape input is computed at run time; flexq needs it constant (an initializer or Constant): fold the shape computation before import (e.g. onnxsim)');
  const dims = toNumbers(shape.data);
  if (shape.shape.length !== 1 || dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    return nodeError(node, `the shape input must be a 1-D list of dims ≥ 0, found [${dims}]`);
  return dims;
}

/** ConstantOfShape(shape) → a tensor of that shape filled with attribute `value` (0) of type `dtype` ('float32'). */
export const constantOfShape: OpContract = {
  op: 'ConstantOfShape',
  minInputs: 1,
  maxInputs: 1,
  infer: (node, inputs) => [{ dtype: fillType(node), shape: outputShape(node, requireInput(node, inputs, 0)) }],
  evaluate(node, [shape]) {
    const dims = outputShape(node, shape!);
    const value = Number(node.attrs.value ?? 0);
    return [{ dtype: fillType(node), shape: dims, data: fromNumbers(fillType(node), Array(sizeOf(dims)).fill(value)) }];
  },
};
