// Softmax over one axis, from the input grid to the output grid (scale 1/256, zero point −128 from calibration).
// Contract, per slice along the axis: v = fp32(sx·(q − zx)); p = exp(v − max v) / Σ exp(v − max v) in double;
// y = the mode's float → grid quantization of p (quantize-input.ts: half away from zero for tflite, half to even
// for a100). tflite-builtin, tflite-xnnpack: byte-equal to LiteRT.js's and tfjs-tflite's int8 SOFTMAX on every output
// measured (test/targets/tflite: 15,000 random and the real models'); their kernel is a float exp table, so a
// near-tie may still round apart. TFLite-Micro's fixed-point exp (tflite-double, tflite-single) is not emulated.
// onnx: onnxruntime's QLinearSoftmax (contrib_ops/cpu/quantization/qlinear_softmax.cc, opset 13), what ORT fuses
// DQ → Softmax → Q into. Per slice of D int8 values (zx cancels out):
//   shift = max(0, logf(fp32(FLT_MAX / D)) − 5) / sx                  the log in float32 (std::log's float overload),
//                                                                      the rest in double; keeps Σ below FLT_MAX
//   e(k)  = fp32(exp((shift − k)·sx)), k = max x − x ∈ [0, 255]        ORT's 256-entry table, exp in double
//   sum   = Σ e(k), float32, in element order
//   y     = min(rne(fp32(fp32(e(k)·floor(fp32(1/sy))) / sum)) + zy, qmax)

import { intAttr } from '../../src/ops/contract.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/quant/quantized-graph.js';
import { gridQuantizer } from '../quantize-input.js';
import { roundHalfToEven } from '../requant/index.js';
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

/** The largest float32. */
const FLT_MAX = 3.4028234663852886e38;

/** onnxruntime's QLinearSoftmax exp table, indexed by k = max x − x (see the contract above). */
export function ortSoftmaxTable(inputScale: number, length: number): Float32Array {
  const sx = Math.fround(inputScale);
  const shift = Math.max(0, Math.fround(Math.log(Math.fround(FLT_MAX / length))) - 5) / sx;
  return Float32Array.from({ length: 256 }, (_, k) => Math.fround(Math.exp((-k + shift) * sx)));
}

/** onnxruntime's QLinearSoftmax on int8 (see the contract above). */
export function ortSoftmax(layout: SoftmaxLayout, table: Float32Array, output: ActivationQuant, x: Int8Array, batch: number, y: Int8Array): void {
  const { outer, length, inner } = layout;
  const f32 = Math.fround;
  const scale = Math.floor(f32(1 / f32(output.scale)));
  for (let o = 0; o < batch * outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let max = -128;
      for (let k = 0; k < length; k++) max = Math.max(max, x[base + k * inner]);
      let sum = 0;
      for (let k = 0; k < length; k++) sum = f32(sum + table[max - x[base + k * inner]]);
      for (let k = 0; k < length; k++) {
        const q = roundHalfToEven(f32(f32(table[max - x[base + k * inner]] * scale) / sum)) + output.zeroPoint;
        y[base + k * inner] = q > output.qmax ? output.qmax : q;
      }
    }
  }
}

export const softmaxKernel: KernelFactory = (ctx) => {
  const shape = ctx.inputShape(0);
  const axis = normalizeAxis(intAttr(ctx.node, 'axis', -1), shape.length + 1);
  if (axis < 1 || axis > shape.length) ctx.unsupported(`axis ${String(ctx.node.attrs.axis)}: softmax over the batch dimension is not supported`);
  const layout = { outer: sizeOf(shape.slice(0, axis - 1)), length: shape[axis - 1], inner: sizeOf(shape.slice(axis)) };
  const input = ctx.inputGrid(0);
  if (ctx.mode === 'onnx') {
    const table = ortSoftmaxTable(input.scale, layout.length);
    return (inputs, batch, output) => ortSoftmax(layout, table, ctx.outputGrid, inputs[0], batch, output);
  }
  const quantize = gridQuantizer(ctx.mode, ctx.outputGrid);
  const scratch = new Float64Array(layout.length);
  return (inputs, batch, output) => softmax(layout, input, quantize, inputs[0], batch, output, scratch);
};
