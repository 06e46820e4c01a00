// Softmax over one axis, from the input grid to the output grid (scale 1/256, zero point −128 from calibration).
// Contract, per slice along the axis: v = fp32(sx·(q − zx)); p = exp(v − max v) / Σ exp(v − max v) in double;
// y = the mode's float → grid quantization of p (quantize-input.ts: half away from zero for tflite, half to even
// for onnx and a100). Not exact yet: TFLite's int8 SOFTMAX uses a fixed-point exp table (and onnxruntime's QDQ
// softmax a float32 exp); this is to be made exact when the TFLite export lands.

import { intAttr } from '../../src/ops/contract.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/quant/quantized-graph.js';
import { gridQuantizer } from '../quantize-input.js';
import type { KernelFactory } from './registry.js';

/** The layout of a softmax: `outer` slices of `length` values along the axis, `inner` apart. */
export interface SoftmaxLayout {
  readonly outer: number;
  readonly length: number;
  readonly inner: number;
}

export function softmax(layout: SoftmaxLayout, input: ActivationQuant, quantize: (p: number) => number, x: Int8Array, batch: number, y: Int8Array, scratch: Float64Array): void {
  const { outer, length, inner } = layout;
  const scale = Math.fround(input.scale);
  for (let o = 0; o < batch * outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let max = -Infinity;
      for (let k = 0; k < length; k++) {
        const v = Math.fround(scale * (x[base + k * inner] - input.zeroPoint));
        scratch[k] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let k = 0; k < length; k++) sum += scratch[k] = Math.exp(scratch[k] - max);
      for (let k = 0; k < length; k++) y[base + k * inner] = quantize(scratch[k] / sum);
    }
  }
}

export const softmaxKernel: KernelFactory = (ctx) => {
  const shape = ctx.inputShape(0);
  const axis = normalizeAxis(intAttr(ctx.node, 'axis', -1), shape.length + 1);
  if (axis < 1 || axis > shape.length) ctx.unsupported(`axis ${String(ctx.node.attrs.axis)}: softmax over the batch dimension is not supported`);
  const layout = { outer: sizeOf(shape.slice(0, axis - 1)), length: shape[axis - 1], inner: sizeOf(shape.slice(axis)) };
  const input = ctx.inputGrid(0);
  const quantize = gridQuantizer(ctx.mode, ctx.outputGrid);
  const scratch = new Float64Array(layout.length);
  return (inputs, batch, output) => softmax(layout, input, quantize, inputs[0], batch, output, scratch);
};
