import { allocate, toNumbers } from '../ir/dtype.js';
import { sizeOf, type Dim } from '../ir/shape.js';
import { checkedAxis, nodeError, requireInput, type ConstTensor, type InputInfo, type OpContract } from './contract.js';
import type { Node } from '../ir/graph.js';

interface AxisSlice { readonly axis: number; readonly start: number; readonly step: number; readonly count: number }

/** Clamps ONNX starts/ends/steps against a concrete dim, as the ONNX spec states. */
function sliceAxis(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s0 = start < 0 ? start + dim : start;
  const e0 = end < 0 ? end + dim : end;
  const s = step > 0 ? clampTo(s0, 0, dim) : clampTo(s0, 0, dim - 1);
  const e = step > 0 ? clampTo(e0, 0, dim) : clampTo(e0, -1, dim - 1);
  return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}

function params(node: Node, inputs: readonly (InputInfo | ConstTensor | undefined)[]) {
  const ints = (i: number) => (inputs[i]?.data ? toNumbers(inputs[i]!.data!) : undefined);
  const starts = ints(1);
  const ends = ints(2);
  if (!starts || !ends) return nodeError(node, 'starts and ends must be constants');
  const rank = requireInput(node, inputs as InputInfo[], 0).shape.length;
  const axes = (ints(3) ?? starts.map((_, i) => i)).map((a) => checkedAxis(node, a, rank, 'slice axis'));
  const steps = ints(4) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    return nodeError(node, `starts, ends, axes and steps have different lengths (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
  if (new Set(axes).size !== axes.length) return nodeError(node, `axes [${axes}] repeat an axis`);
  if (steps.some((v) => v === 0 || !Number.isFinite(v))) return nodeError(node, `steps [${steps}] must be non-zero`);
  return { starts, ends, axes, steps };
}

/** Slice(data, starts, ends, axes?, steps?) with constant starts/ends/axes/steps (opset ≥ 10 form). */
export const slice: OpContract = {
  op: 'Slice',
  minInputs: 3,
  maxInputs: 5,
  infer(node, inputs) {
    const x = requireInput(node, inputs, 0);
    const { starts, ends, axes, steps } = params(node, inputs);
    const shape: Dim[] = [...x.shape];
    axes.forEach((a, i) => {
      const d = shape[a];
      if (typeof d === 'number') shape[a] = sliceAxis(d, starts[i], ends[i], steps[i]).count;
      else if (!(starts[i] === 0 && steps[i] === 1 && ends[i] >= 2 ** 31 - 1)) shape[a] = `${node.outputs[0]}:${a}`;
    });
    return [{ dtype: x.dtype, shape }];
  },
  evaluate(node, inputs) {
    const x = inputs[0]!;
    const { starts, ends, axes, steps } = params(node, inputs);
    const per: AxisSlice[] = x.shape.map((d, axis) => ({ axis, start: 0, step: 1, count: d }));
    axes.forEach((a, i) => {
      const { start, count } = sliceAxis(x.shape[a], starts[i], ends[i], steps[i]);
      per[a] = { axis: a, start, step: steps[i], count };
    });
    const shape = per.map((p) => p.count);
    const strides = x.shape.map((_, k) => sizeOf(x.shape.slice(k + 1)));
    const out = allocate(x.dtype, sizeOf(shape)) as unknown as number[];
    const src = x.data as unknown as number[];
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let off = 0;
      for (let k = 0; k < shape.length; k++) off += (per[k].start + idx[k] * per[k].step) * strides[k];
      out[i] = src[off];
      for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
    }
    return [{ dtype: x.dtype, shape, data: out as never }];
  },
};
