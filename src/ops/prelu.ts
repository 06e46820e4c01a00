import { broadcastShapes, formatShape } from '../ir/shape.js';
import { nodeError, requireInput, type OpContract } from './contract.js';

/** PRelu(X, slope) = x ≥ 0 ? x : slope·x, with slope broadcast to X's shape (one way: the output has X's shape). */
export const prelu: OpContract = {
  op: 'PRelu',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const slope = requireInput(node, inputs, 1);
    const shape = broadcastShapes(x.shape, slope.shape);
    if (!shape || formatShape(shape) !== formatShape(x.shape))
      return nodeError(node, `slope ${formatShape(slope.shape)} does not broadcast to the input's shape ${formatShape(x.shape)}`);
    return [x];
  },
};
