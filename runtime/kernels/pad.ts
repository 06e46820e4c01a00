// Pad with a constant on one grid (BlazeFace's channel padding). Contract: y = x inside, and the grid's
// integer for `value` in the padded border; that integer must be exact on the grid (the zero point for 0), so
// every mode gives the same bytes. Only 'constant' mode, and no padding of the batch axis.

import { intsAttr, stringAttr } from '../../src/ops/contract.js';
import { sizeOf } from '../../src/ir/shape.js';
import type { Node } from '../../src/ir/graph.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { checkSameGrid } from './average-pool.js';
import type { KernelFactory } from './kernel.js';
import { gatherCopy } from './reshape.js';

/** For each output element of `shape` padded by `before`/`after`, its input offset, or −1 in the border. */
export function padSources(shape: readonly number[], before: readonly number[], after: readonly number[]): Int32Array {
  const outShape = shape.map((d, k) => d + before[k] + after[k]);
  const strides = shape.map((_, k) => sizeOf(shape.slice(k + 1)));
  const source = new Int32Array(sizeOf(outShape));
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < source.length; i++) {
    let off = 0;
    for (let k = 0; k < outShape.length && off >= 0; k++) {
      const at = idx[k] - before[k];
      off = at < 0 || at >= shape[k] ? -1 : off + at * strides[k];
    }
    source[i] = off;
    for (let k = outShape.length - 1; k >= 0 && ++idx[k] === outShape[k]; k--) idx[k] = 0;
  }
  return source;
}

/** The output grid's integer for the node's pad value (the kernel refuses one that is not an int8 of the grid). */
export function padFill(node: Node, grid: ActivationQuant): number {
  return grid.zeroPoint + Number(node.attrs.value ?? 0) / grid.scale;
}

export const padKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  const mode = stringAttr(ctx.node, 'mode', 'constant');
  if (mode !== 'constant') ctx.unsupported(`mode '${mode}': the integer Pad supports 'constant' only`);
  const grid = ctx.outputGrid;
  const fill = padFill(ctx.node, grid);
  if (!Number.isInteger(fill) || fill < grid.qmin || fill > grid.qmax)
    ctx.unsupported(`pad value ${String(ctx.node.attrs.value ?? 0)} is not an integer on the output grid (scale ${grid.scale}, zero point ${grid.zeroPoint}); pad with 0`);
  const shape = ctx.inputShape(0);
  const rank = shape.length + 1;
  const pads = intsAttr(ctx.node, 'pads');
  if (pads[0] !== 0 || pads[rank] !== 0) ctx.unsupported(`pads [${pads.join(',')}] pad the batch axis; pad the axes of one sample only`);
  const source = padSources(shape, pads.slice(1, rank), pads.slice(rank + 1));
  const inputSize = sizeOf(shape);
  return (inputs, batch, output) => gatherCopy(source, inputSize, fill, inputs[0], batch, output);
};
