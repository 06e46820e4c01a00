import { allocate, toNumbers } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { sizeOf } from '../ir/shape.js';
import { nodeError, requireInput, type InputInfo, type OpContract } from './contract.js';

/** Tile's repeats: constant, one integer ≥ 0 per dim of X. */
export function tileRepeats(node: Node, x: InputInfo, repeats: InputInfo): number[] {
  if (!repeats.data) return nodeError(node, 'the repeats input is computed at run time; flexq needs it constant');
  const r = toNumbers(repeats.data);
  if (r.length !== x.shape.length || r.some((v) => !Number.isSafeInteger(v) || v < 0))
    return nodeError(node, `repeats [${r}] must give one integer ≥ 0 per dim of [${x.shape}]`);
  return r;
}

/** Tile(X, repeats): X repeated repeats[i] times along each dim i. */
export const tile: OpContract = {
  op: 'Tile',
  minInputs: 2,
  maxInputs: 2,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const r = tileRepeats(node, x, requireInput(node, inputs, 1));
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d * r[i] : r[i] === 1 ? d : `${node.outputs[0]}:${i}`)) }];
  },
  evaluate(node, [x, repeats]) {
    const r = tileRepeats(node, x!, repeats!);
    const shape = x!.shape.map((d, i) => d * r[i]);
    const strides = x!.shape.map((_, k) => sizeOf(x!.shape.slice(k + 1)));
    const out = allocate(x!.dtype, sizeOf(shape)) as unknown as number[];
    const src = x!.data as unknown as number[];
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let off = 0;
      for (let k = 0; k < shape.length; k++) off += (idx[k] % x!.shape[k]) * strides[k];
      out[i] = src[off];
      for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
    }
    return [{ dtype: x!.dtype, shape, data: out as never }];
  },
};
