import { offsetSymbol, scaledDim, type Dim } from '../ir/shape.js';
import { intAttr, intsAttr, nodeError, requireInput, type OpContract } from './contract.js';
import { require4d, window2d } from './window.js';

/**
 * ConvTranspose(X[N,C,H,W], W[C,M/group,kh,kw], B[M]?) → [N,M,H',W'],
 * H' = stride·(H−1) + outputPadding + (kh−1)·dilation + 1 − padTop − padBottom.
 * Attributes: kernel, strides, pads [t,l,b,r], dilations, group, outputPadding.
 */
export const convTranspose: OpContract = {
  op: 'ConvTranspose',
  minInputs: 2,
  maxInputs: 3,
  infer(node, inputs) {
    const x = require4d(node, requireInput(node, inputs, 0), 'input X');
    const w = require4d(node, requireInput(node, inputs, 1), 'weight W');
    const win = window2d(node);
    const outPad = intsAttr(node, 'outputPadding', [0, 0]);
    const group = intAttr(node, 'group', 1);
    if (group < 1) return nodeError(node, `group ${group} must be ≥ 1`);
    if (typeof x[1] === 'number' && typeof w[0] === 'number' && x[1] !== w[0])
      return nodeError(node, `input has ${x[1]} channels but weight W [${w}] expects ${w[0]}`);
    if (outPad.length !== 2 || outPad.some((p, k) => p < 0 || p >= Math.max(win.strides[k], win.dilations[k])))
      return nodeError(node, `outputPadding [${outPad}] must be 2 values in 0..max(stride, dilation)−1`);
    // stride·(d − 1) + outputPadding + (kernel − 1)·dilation + 1 − pads; for a symbol, stride·d plus the rest.
    const extra = (k: 0 | 1): number => outPad[k] + (win.kernel[k] - 1) * win.dilations[k] + 1 - win.pads[k] - win.pads[k + 2] - win.strides[k];
    const grow = (d: Dim, k: 0 | 1): Dim =>
      typeof d === 'string' ? offsetSymbol(scaledDim(d, win.strides[k]) as string, extra(k)) : win.strides[k] * d + extra(k);
    const [h, wd] = [grow(x[2], 0), grow(x[3], 1)];
    if ((typeof h === 'number' && h < 1) || (typeof wd === 'number' && wd < 1))
      return nodeError(node, `pads [${win.pads}] crop the whole output (${h}x${wd}); expected pads smaller than the upsampled input`);
    return [{ dtype: 'float32', shape: [x[0], typeof w[1] === 'number' ? w[1] * group : w[1], h, wd] }];
  },
};
