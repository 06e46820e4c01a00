// MaxPool on one grid: the output reuses the input's scale and zero point, so the maximum of the raw int8 values
// is the answer in every mode (the map q → s·(q − z) is increasing). Contract, per channel and output position:
//   y[oy, ox] = max { x[oy·sh − pt + ky·dh, ox·sw − pl + kx·dw] : the position lies inside the input }
// Padded positions and the ceil-mode overhang are skipped, never read as a value (ONNX pads MaxPool with −∞).

import { window2d, type Window2d } from '../../src/ops/window.js';
import type { KernelFactory } from './kernel.js';
import { checkSameGrid, poolGeometry, type PoolGeometry } from './average-pool.js';

export function maxPool2d(g: PoolGeometry, w: Window2d, x: Int8Array, batch: number, y: Int8Array): void {
  const { channels, height, width, outHeight, outWidth } = g;
  const [kh, kw] = w.kernel;
  const [sh, sw] = w.strides;
  const [dh, dw] = w.dilations;
  const [top, left] = w.pads;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * sh - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * sw - left;
        let best = -129;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y0 + ky * dh;
          if (iy < 0 || iy >= height) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x0 + kx * dw;
            if (ix < 0 || ix >= width) continue;
            const v = x[base + iy * width + ix];
            if (v > best) best = v;
          }
        }
        y[o++] = best;
      }
    }
  }
}

export const maxPoolKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  const geometry = poolGeometry(ctx);
  const window = window2d(ctx.node);
  return (inputs, batch, output) => maxPool2d(geometry, window, inputs[0], batch, output);
};
