// Concat along a non-batch axis. Inputs on the output's grid are copied; the others are rescaled through a table
// (an int8 has 256 values). Contract, for input i on grid (si, zi) and output grid (so, zo):
//   tflite-double, tflite-single: TFLite's reference ConcatenationWithScaling:
//     scale = fp32(si · fp32(1/so)), bias = fp32(−zi · scale), y = TfLiteRound(fp32(fp32(q·scale) + bias)) + zo
//   tflite-builtin, tflite-xnnpack: the TFLite interpreters' int8 CONCATENATION takes inputs on the output grid
//     only, so flexq's .tflite requantizes the others with QUANTIZE (int8 → int8), which the XNNPACK delegate runs
//     on both paths as its qs8 convert (xnn_init_qs8_cvt params: an 8-bit fixed-point multiplier):
//     m = lrintf(256 · fp32(si / so)), y = (((zo << 8) + 0x80) + (q − zi)·m) >> 8   (arithmetic shift)
//     e.g. si/so = 0.05/0.06: m = 213, so q − zi = 39 gives 32, where the exact 32.5 would round to 33.
//   onnx, a100: onnxruntime's QLinearConcat (a DequantizeLinear → QuantizeLinear table per input):
//     y = rne(fp32(fp32((q − zi)·si) / so)) + zo
//   then clamp to [qmin, qmax] of the output grid.

import { intAttr } from '../../src/ops/contract.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { roundHalfToEven, tfliteBuild, type RequantMode } from '../requant/index.js';
import { gridQuantizer, roundHalfAwayFromZero } from '../quantize-input.js';
import type { KernelFactory } from './kernel.js';

const f32 = Math.fround;

/** The rescaling table of one input, or undefined when it already has the output's grid. */
export function rescaleTable(mode: RequantMode, input: ActivationQuant, output: ActivationQuant): Int8Array | undefined {
  if (input.scale === output.scale && input.zeroPoint === output.zeroPoint) return undefined;
  const clamp = (v: number) => Math.min(output.qmax, Math.max(output.qmin, v));
  if (mode === 'tflite-builtin' || mode === 'tflite-xnnpack') {
    const m = roundHalfToEven(256 * f32(f32(input.scale) / f32(output.scale)));
    const bias = output.zeroPoint * 256 + 0x80;
    return Int8Array.from({ length: 256 }, (_, i) => clamp((bias + (i - 128 - input.zeroPoint) * m) >> 8));
  }
  if (tfliteBuild(mode)) {
    const scale = f32(f32(input.scale) * f32(1 / f32(output.scale)));
    const bias = f32(-input.zeroPoint * scale);
    return Int8Array.from({ length: 256 }, (_, i) => clamp(roundHalfAwayFromZero(f32(f32((i - 128) * scale) + bias)) + output.zeroPoint));
  }
  const quantize = gridQuantizer(mode, output);
  const sx = f32(input.scale);
  return Int8Array.from({ length: 256 }, (_, i) => quantize(f32((i - 128 - input.zeroPoint) * sx)));
}

/** One input of a concat: `chunk` values per outer step, through `table` when rescaled. */
export interface ConcatPart {
  readonly chunk: number;
  readonly table?: Int8Array;
}

export function concat(parts: readonly ConcatPart[], outer: number, xs: readonly Int8Array[], batch: number, y: Int8Array): void {
  let o = 0;
  for (let step = 0; step < batch * outer; step++) {
    for (let p = 0; p < parts.length; p++) {
      const { chunk, table } = parts[p];
      const x = xs[p];
      const base = step * chunk;
      if (table) for (let i = 0; i < chunk; i++) y[o++] = table[x[base + i] + 128];
      else for (let i = 0; i < chunk; i++) y[o++] = x[base + i];
    }
  }
}

export const concatKernel: KernelFactory = (ctx) => {
  const rank = ctx.outputShape.length + 1;
  const axis = normalizeAxis(intAttr(ctx.node, 'axis'), rank);
  if (axis < 1 || axis >= rank) ctx.unsupported(`axis ${String(ctx.node.attrs.axis)}: concatenation along the batch dimension is not supported`);
  const parts = ctx.node.inputs.map((_, i) => ({
    chunk: sizeOf(ctx.inputShape(i).slice(axis - 1)),
    table: rescaleTable(ctx.mode, ctx.inputGrid(i), ctx.outputGrid),
  }));
  const outer = sizeOf(ctx.outputShape.slice(0, axis - 1));
  return (inputs, batch, output) => concat(parts, outer, inputs, batch, output);
};
