// AveragePool on one grid (the output reuses the input's scale and zero point), as TFLite's int8 AVERAGE_POOL_2D
// (reference_integer_ops::AveragePool) computes it. Contract, per channel and output position:
//   the window is clipped to the input (padding and the ceil-mode overhang are not counted);
//   sum = Σ x over the clipped window (raw int8 values), count = its size
//   y = (sum > 0 ? sum + ⌊count/2⌋ : sum − ⌊count/2⌋) / count, truncated toward zero (C integer division)
// With countIncludePad = 1 (ONNX only) padded positions hold the zero point: sum = Σ (x − z) over the window,
// count = kernel area clipped to the padded extent, and y = z + the same rounded division.
// onnxruntime's QLinearAveragePool averages in float; it is not emulated: every mode uses this rule.

import { intAttr } from '../../src/ops/contract.js';
import { window2d, type Window2d } from '../../src/ops/window.js';
import type { KernelContext, KernelFactory } from './kernel.js';

export interface PoolGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** TFLite's rounded integer division: half away from zero, then truncation. */
function roundedDivide(sum: number, count: number): number {
  const half = Math.floor(count / 2);
  return Math.trunc((sum > 0 ? sum + half : sum - half) / count);
}

export function averagePool2d(g: PoolGeometry, w: Window2d, countIncludePad: boolean, zeroPoint: number, x: Int8Array, batch: number, y: Int8Array): void {
  const { channels, height, width, outHeight, outWidth } = g;
  const [kh, kw] = w.kernel;
  const [sh, sw] = w.strides;
  const [top, left, bottom, right] = w.pads;
  const offset = countIncludePad ? zeroPoint : 0;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const base = plane * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * sh - top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(height, y0 + kh);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * sw - left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(width, x0 + kw);
        let sum = 0;
        for (let iy = yStart; iy < yEnd; iy++) for (let ix = xStart; ix < xEnd; ix++) sum += x[base + iy * width + ix] - offset;
        const count = countIncludePad
          ? (Math.min(height + bottom, y0 + kh) - Math.max(-top, y0)) * (Math.min(width + right, x0 + kw) - Math.max(-left, x0))
          : (yEnd - yStart) * (xEnd - xStart);
        y[o++] = roundedDivide(sum, count) + offset;
      }
    }
  }
}

/** Pools keep the input's grid (calibration gives them that grid); anything else would need a requantization. */
export function checkSameGrid(ctx: KernelContext): void {
  const [x, y] = [ctx.inputGrid(0), ctx.outputGrid];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint || x.qmin !== y.qmin || x.qmax !== y.qmax)
    ctx.unsupported(`input grid (scale ${x.scale}, zero point ${x.zeroPoint}) differs from output grid (scale ${y.scale}, zero point ${y.zeroPoint}); this op keeps its input's grid: re-quantize the model`);
}

export function poolGeometry(ctx: KernelContext): PoolGeometry {
  const [channels, height, width] = ctx.inputShape(0);
  const [, outHeight, outWidth] = ctx.outputShape;
  if (ctx.inputShape(0).length !== 3) ctx.unsupported(`an input of rank ${ctx.inputShape(0).length + 1}: pools take 4-D NCHW inputs`);
  return { channels, height, width, outHeight, outWidth };
}

export const averagePoolKernel: KernelFactory = (ctx) => {
  checkSameGrid(ctx);
  const geometry = poolGeometry(ctx);
  const window = window2d(ctx.node);
  if (window.dilations.some((d) => d !== 1)) ctx.unsupported(`dilations ${window.dilations.join(',')}: the integer AveragePool supports dilation 1 only`);
  const includePad = intAttr(ctx.node, 'countIncludePad', 0) === 1;
  const zeroPoint = ctx.inputGrid(0).zeroPoint;
  return (inputs, batch, output) => averagePool2d(geometry, window, includePad, zeroPoint, inputs[0], batch, output);
};
