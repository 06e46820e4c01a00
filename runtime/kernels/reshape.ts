// Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same integers in a new shape. Contract: y = x, element for
// element, on the input's grid (calibration gives these ops their input's grid; a different one is refused).
// Also the copy that Transpose and Pad share: each output element is one input element, or the zero point.

import { checkSameGrid } from './average-pool.js';
import type { KernelFactory } from './kernel.js';

export const reshapeKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  return (inputs, _batch, output) => output.set(inputs[0]);
};

/** y[i] = x[source[i]] per sample, or `fill` where source[i] is −1 (a padded position). */
export function gatherCopy(source: Int32Array, inputSize: number, fill: number, x: Int8Array, batch: number, y: Int8Array): void {
  const n = source.length;
  for (let b = 0; b < batch; b++) {
    const xb = b * inputSize;
    const yb = b * n;
    for (let i = 0; i < n; i++) {
      const s = source[i];
      y[yb + i] = s < 0 ? fill : x[xb + s];
    }
  }
}
