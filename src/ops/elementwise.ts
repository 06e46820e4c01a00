import { allocate, fromNumbers, toNumbers, type TensorData } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { broadcastShapes, formatShape, isStatic, sizeOf } from '../ir/shape.js';
import { nodeError, requireInput, type ConstTensor, type OpContract } from './contract.js';

/** Contract shared by ops whose output has the input's type and shape (activations, Identity); `fn` evaluates it on constants. */
export function unaryContract(op: string, fn?: (x: number, node: Node) => number): OpContract {
  return {
    op,
    minInputs: 1,
    maxInputs: 1,
    infer: (node, inputs) => [requireInput(node, inputs, 0)],
    ...(fn && {
      evaluate: (node: Node, [x]: readonly (ConstTensor | undefined)[]) => [{ ...x!, data: fromNumbers(x!.dtype, toNumbers(x!.data).map((v) => fn(v, node))) }],
    }),
  };
}

type Scalar = (a: number, b: number) => number;

/** Contract of a numpy-broadcasting binary op; `fn` evaluates it on constants. */
export function binaryContract(op: string, fn: Scalar): OpContract {
  return {
    op,
    minInputs: 2,
    maxInputs: 2,
    infer(node, inputs) {
      const a = requireInput(node, inputs, 0);
      const b = requireInput(node, inputs, 1);
      const shape = broadcastShapes(a.shape, b.shape);
      if (!shape) return nodeError(node, `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
      if (a.dtype !== b.dtype) return nodeError(node, `input types differ: ${a.dtype} and ${b.dtype}`);
      return [{ dtype: a.dtype, shape }];
    },
    evaluate(node, [a, b]) {
      const shape = broadcastShapes(a!.shape, b!.shape);
      if (!shape || !isStatic(shape)) return nodeError(node, 'constant operands do not broadcast');
      return [broadcastBinary(a!, b!, shape, fn)];
    },
  };
}

function broadcastBinary(a: ConstTensor, b: ConstTensor, shape: readonly number[], fn: Scalar): ConstTensor {
  const out = allocate(a.dtype, sizeOf(shape));
  const big = a.dtype === 'int64';
  const av = a.data as ArrayLike<number | bigint>;
  const bv = b.data as ArrayLike<number | bigint>;
  const ai = broadcastIndex(a.shape, shape);
  const bi = broadcastIndex(b.shape, shape);
  for (let i = 0; i < out.length; i++) {
    const r = fn(Number(av[ai(i)]), Number(bv[bi(i)]));
    if (big) (out as BigInt64Array)[i] = BigInt(Math.trunc(r));
    else (out as Exclude<TensorData, BigInt64Array>)[i] = r;
  }
  return { dtype: a.dtype, shape, data: out };
}

/** Maps a flat index of the broadcast output to the flat index of an operand of shape `from`. */
export function broadcastIndex(from: readonly number[], to: readonly number[]): (i: number) => number {
  const rank = to.length;
  const padded = [...Array(rank - from.length).fill(1), ...from];
  const strides = padded.map((_, k) => (padded[k] === 1 ? 0 : sizeOf(padded.slice(k + 1))));
  return (i) => {
    let off = 0;
    for (let k = rank - 1; k >= 0; k--) {
      off += (i % to[k]) * strides[k];
      i = Math.floor(i / to[k]);
    }
    return off;
  };
}
