import { fromNumbers, toNumbers } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { nodeError, requireInput, type InputInfo, type OpContract } from './contract.js';

/** start, limit, delta of a Range node: scalars that must be constant, since they fix the output's length. */
function operands(node: Node, inputs: readonly (InputInfo | undefined)[]): [number, number, number] {
  const [start, limit, delta] = [0, 1, 2].map((i) => {
    const v = requireInput(node, inputs, i);
    if (!v.data || v.data.length !== 1)
      return nodeError(node, `input ${i} must be a constant scalar (the output's length depends on it); found ${v.data ? `${v.data.length} values` : 'a value computed at run time'}`);
    return toNumbers(v.data)[0];
  });
  if (delta === 0 || !Number.isFinite(delta)) return nodeError(node, `delta is ${delta}; expected a finite non-zero step`);
  return [start, limit, delta];
}

/** Range(start, limit, delta) → [start, start+delta, …] up to (not including) limit, of start's type. */
export const range: OpContract = {
  op: 'Range',
  minInputs: 3,
  maxInputs: 3,
  infer(node, inputs) {
    const [start, limit, delta] = operands(node, inputs);
    return [{ dtype: requireInput(node, inputs, 0).dtype, shape: [Math.max(0, Math.ceil((limit - start) / delta))] }];
  },
  evaluate(node, inputs) {
    const [start, limit, delta] = operands(node, inputs as InputInfo[]);
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    return [{ dtype: inputs[0]!.dtype, shape: [n], data: fromNumbers(inputs[0]!.dtype, Array.from({ length: n }, (_, i) => start + i * delta)) }];
  },
};
