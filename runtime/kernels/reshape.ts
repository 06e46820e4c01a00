// Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same integers in a new shape. Contract: y = x, element for
// element, on the input's grid (calibration gives these ops their input's grid; a different one is refused).

import { checkSameGrid } from './average-pool.js';
import type { KernelFactory } from './kernel.js';

export const reshapeKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  return (inputs, _batch, output) => output.set(inputs[0]);
};
