// The lowering rules of the ops real-world models add to the classifiers' set (squeeze-excite Mul, bilinear and nearest Resize,
// ConvTranspose, Pad, Transpose, Concat), in the style of lower.ts: every integer constant, position and table comes
// from the integer runtime's own functions in the mode of the library's rounding, so the C computes what the runtime does. The
// runtime's prepare (run by lowerForC first) has already refused what it cannot run (modes, attributes, grids).

import { fail } from '../../src/errors.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import { intAttr, intsAttr, stringAttr } from '../../src/ops/contract.js';
import { window2d } from '../../src/ops/window.js';
import { rescaleTable } from '../../runtime/kernels/concat.js';
import { fusedActivationRange } from '../../runtime/kernels/gemm.js';
import { tfliteMulRequantizer, tfliteMulRule } from '../../runtime/kernels/mul.js';
import { padFill } from '../../runtime/kernels/pad.js';
import { nearestPlan, tfliteAxis, xnnpackAxis, type ResizeCoordinates } from '../../runtime/kernels/resize.js';
import { prepareRequantizer, type RequantConstants } from '../../runtime/requant/index.js';
import {
  biasValues, cFloat, channelRequant, fusedActivation, outputOf, perChannel, requantInit, symmetricWeight, windowInit,
  type CArray, type CStep, type NodeInfo, type Rule,
} from './c-step.js';

/** The kernels' loops cover four axes of one sample (ones in front). */
const MAX_AXES = 4;

export function fourAxes(n: NodeInfo, shape: readonly number[], what: string): number[] {
  if (shape.length > MAX_AXES) fail('UNSUPPORTED_ATTR', `${n.where}: ${what} has ${shape.length} axes per sample [${shape.join(',')}]; the C kernel takes at most ${MAX_AXES}: reshape the tensor to fewer axes in the source model`);
  return [...new Array<number>(MAX_AXES - shape.length).fill(1), ...shape];
}

/** Row-major strides of a shape. */
const stridesOf = (shape: readonly number[]): number[] => shape.map((_, k) => sizeOf(shape.slice(k + 1)));

/** numpy broadcasting of an operand onto the 4-axis output: its strides, 0 on the axes it repeats along. */
export function broadcastStrides(n: NodeInfo, operand: readonly number[], out: readonly number[]): number[] {
  const shape = fourAxes(n, [...new Array<number>(Math.max(out.length - operand.length, 0)).fill(1), ...operand], 'an operand');
  return stridesOf(shape).map((s, k) => (shape[k] === 1 ? 0 : s));
}

/**
 * When one operand has the output's shape and the other one value per trailing block of it (the squeeze-excite gate
 * [C, 1, 1] of [C, H, W]): which operand is the gate, and the blocks' count and size.
 */
function perPlane(n: NodeInfo): { gate: 0 | 1; planes: number; planeSize: number } | undefined {
  const out = n.shape(outputOf(n.node));
  for (const gate of [0, 1] as const) {
    const [x, g] = [n.shape(n.node.inputs[1 - gate]), n.shape(n.node.inputs[gate])];
    if (x.join() !== out.join() || g.length > out.length) continue;
    const padded = [...new Array<number>(out.length - g.length).fill(1), ...g];
    let k = padded.length; // the gate's axes before its trailing ones
    while (k > 0 && padded[k - 1] === 1) k--;
    if (padded.slice(0, k).every((d, j) => d === out[j])) return { gate, planes: sizeOf(out.slice(0, k)), planeSize: sizeOf(out.slice(k)) };
  }
  return undefined;
}

/**
 * C initializer of a flexq_mul_requant: the build's flexq_requant, or in the fp32 build (tflite-xnnpack) the scale of
 * XNNPACK's rule (0 where the runtime's MUL runs TFLite's double rounding instead, with its fixed point).
 */
function mulRequantInit(mode: NodeInfo['mode'], c: RequantConstants): string {
  if (mode !== 'tflite-xnnpack') return requantInit(c);
  if (c.kind === 'fp32') return `{${cFloat(c.scale)}, {0, 0, ${c.zeroPoint}, ${c.min}, ${c.max}}}`;
  return `{0.0f, ${requantInit(c)}}`;
}

/** TFLite's int8 MUL with the runtime's rule and requantizer in the mode, both operands broadcast onto the output. */
function lowerMul(n: NodeInfo): CStep {
  const { node } = n;
  const [a, b, out] = [node.inputs[0], node.inputs[1], outputOf(node)];
  const outShape = n.shape(out);
  const [ga, gb, gy] = [n.grid(a), n.grid(b), n.grid(out)];
  // Every C mode is a TFLite one, which has a MUL rule.
  const rule = tfliteMulRule(n.mode, ga, gb, gy)!;
  const requant = mulRequantInit(n.mode, tfliteMulRequantizer(rule, ga, gb, gy).constants);
  const plane = n.kernels === 'optimized' ? perPlane(n) : undefined;
  if (plane && plane.planeSize > 256) {
    const [x, gate] = plane.gate === 1 ? [a, b] : [b, a];
    return {
      node, params: { type: 'flexq_mul_per_plane_params', init: `{${plane.planes}, ${plane.planeSize}, ${n.grid(x).zeroPoint}, ${n.grid(gate).zeroPoint}, ${requant}}` },
      arrays: [], inputs: [x, gate], output: out, outputBytes: sizeOf(outShape), scratchBytes: 0, inPlaceInputs: [0], sources: ['mul_per_plane.c'],
      call: (p) => `flexq_mul_s8_per_plane(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output});`,
    };
  }
  const broadcast = `{{${fourAxes(n, outShape, 'the output').join(', ')}}, {${broadcastStrides(n, n.shape(a), outShape).join(', ')}}, {${broadcastStrides(n, n.shape(b), outShape).join(', ')}}}`;
  const size = sizeOf(outShape);
  return {
    node, params: { type: 'flexq_mul_params', init: `{${broadcast}, ${ga.zeroPoint}, ${gb.zeroPoint}, ${requant}}` },
    arrays: [], inputs: [a, b], output: out, outputBytes: size, scratchBytes: 0,
    // An operand of the output's size is read at each index just before the output is written there.
    inPlaceInputs: [0, 1].filter((i) => sizeOf(n.shape(node.inputs[i])) === size), sources: ['mul.c'],
    call: (p) => `flexq_mul_s8(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output});`,
  };
}

/** Nearest Resize of H and W: a copy from the runtime's source rows and columns. */
function lowerResizeNearest(n: NodeInfo): CStep {
  const { node, id } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const plan = nearestPlan(node, n.shape(x), n.shape(out));
  const arrays: CArray[] = [
    { name: `${id}_rows`, type: 'int16_t', values: plan.rows },
    { name: `${id}_cols`, type: 'int16_t', values: plan.cols },
  ];
  return {
    node, params: { type: 'flexq_resize_nearest_params', init: `{${[plan.channels, plan.inHeight, plan.inWidth, plan.rows.length, plan.cols.length, ...arrays.map((a) => a.name)].join(', ')}}` },
    arrays, inputs: [x], output: out, outputBytes: sizeOf(n.shape(out)), scratchBytes: 0, sources: ['resize_nearest.c'],
    call: (p) => `flexq_resize_nearest_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/**
 * Bilinear Resize of H and W with the runtime's source rows, columns and weights in the mode: TFLite's 10-bit ones, or
 * in tflite-xnnpack XNNPACK's 11-bit ones and its kernel; nearest is a copy.
 */
function lowerResize(n: NodeInfo): CStep {
  const { node, id } = n;
  if (stringAttr(node, 'mode', 'nearest') === 'nearest') return lowerResizeNearest(n);
  const [x, out] = [node.inputs[0], outputOf(node)];
  const [[channels, inH, inW], [, outH, outW]] = [n.shape(x), n.shape(out)];
  const coordinates = stringAttr(node, 'coordinateTransformationMode', 'half_pixel') as ResizeCoordinates;
  const xnnpack = n.mode === 'tflite-xnnpack';
  const axis = (name: string, input: number, output: number): CArray[] => {
    const a = (xnnpack ? xnnpackAxis : tfliteAxis)(input, output, coordinates);
    return [
      { name: `${id}_${name}_lower`, type: 'int16_t', values: a.lower },
      { name: `${id}_${name}_upper`, type: 'int16_t', values: a.upper },
      { name: `${id}_${name}_weight`, type: 'int16_t', values: a.weight },
    ];
  };
  const arrays = [...axis('row', inH, outH), ...axis('col', inW, outW)];
  const kernel = xnnpack ? 'flexq_resize_bilinear_s8_xnnpack' : 'flexq_resize_bilinear_s8';
  return {
    node, params: { type: 'flexq_resize_bilinear_params', init: `{${[channels, inH, inW, outH, outW, ...arrays.map((a) => a.name)].join(', ')}}` },
    arrays, inputs: [x], output: out, outputBytes: sizeOf(n.shape(out)), scratchBytes: 0, sources: ['resize_bilinear.c'],
    call: (p) => `${kernel}(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** ConvTranspose (weights [C][M][kh][kw], per tensor) with the requantizer the runtime's kernel prepares, repeated per channel. */
function lowerConvTranspose(n: NodeInfo): CStep {
  const { node, id } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const [inShape, outShape] = [n.shape(x), n.shape(out)];
  const w = symmetricWeight(n, 1);
  const y = n.grid(out);
  const rq = prepareRequantizer(n.mode, { inputScale: n.grid(x).scale, weightScale: w.scale, outputScale: y.scale, ...fusedActivationRange(fusedActivation(node), y) });
  const r = channelRequant(id, perChannel(rq, outShape[0]));
  const weights: CArray = { name: `${id}_weights`, type: 'int8_t', values: w.values };
  const bias: CArray = { name: `${id}_bias`, type: 'int32_t', values: biasValues(n, 2, outShape[0]) };
  const init = `{${windowInit(window2d(node), inShape, outShape)}, ${-n.grid(x).zeroPoint}, ${weights.name}, ${bias.name}, ${r.init}}`;
  return {
    node, params: { type: 'flexq_conv_transpose_params', init }, arrays: [weights, bias, ...r.arrays], inputs: [x], output: out,
    outputBytes: sizeOf(outShape), scratchBytes: 0, sources: ['conv_transpose.c'],
    call: (p) => `flexq_conv_transpose_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** Transpose of one sample's axes (the runtime keeps the batch axis first). */
function lowerTranspose(n: NodeInfo): CStep {
  const { node } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const shape = n.shape(x);
  const perm = intsAttr(node, 'perm', [...shape, 0].map((_, i) => shape.length - i)).slice(1).map((p) => p - 1);
  const strides = stridesOf(shape);
  const outShape = fourAxes(n, perm.map((p) => shape[p]), 'the output');
  const inStrides = [...new Array<number>(MAX_AXES - perm.length).fill(0), ...perm.map((p) => strides[p])];
  return {
    node, params: { type: 'flexq_transpose_params', init: `{{${outShape.join(', ')}}, {${inStrides.join(', ')}}}` },
    arrays: [], inputs: [x], output: out, outputBytes: sizeOf(shape), scratchBytes: 0, sources: ['transpose.c'],
    call: (p) => `flexq_transpose_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** Constant Pad of one sample's axes, the border filled with the runtime's integer for the pad value. */
function lowerPad(n: NodeInfo): CStep {
  const { node } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const shape = n.shape(x);
  const rank = shape.length + 1;
  const pads = intsAttr(node, 'pads');
  const before = [...new Array<number>(MAX_AXES - shape.length).fill(0), ...pads.slice(1, rank)];
  const init = `{{${fourAxes(n, shape, 'the input').join(', ')}}, {${before.join(', ')}}, {${fourAxes(n, n.shape(out), 'the output').join(', ')}}, ${padFill(node, n.grid(out))}}`;
  return {
    node, params: { type: 'flexq_pad_params', init }, arrays: [], inputs: [x], output: out,
    outputBytes: sizeOf(n.shape(out)), scratchBytes: 0, sources: ['pad.c'],
    call: (p) => `flexq_pad_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** Concat along a per-sample axis; inputs on another grid than the output go through the runtime's rescale table. */
function lowerConcat(n: NodeInfo): CStep {
  const { node, id } = n;
  const out = outputOf(node);
  const outShape = n.shape(out);
  const axis = normalizeAxis(intAttr(node, 'axis'), outShape.length + 1);
  const tables = node.inputs.map((x) => rescaleTable(n.mode, n.grid(x), n.grid(out)));
  const offsets: number[] = [];
  let at = 0;
  for (const t of tables) offsets.push(t ? (at += 256) - 256 : -1);
  const arrays: CArray[] = [
    { name: `${id}_chunk`, type: 'int32_t', values: node.inputs.map((x) => sizeOf(n.shape(x).slice(axis - 1))) },
    { name: `${id}_table_offset`, type: 'int32_t', values: offsets },
    // One zero byte when nothing is rescaled: C has no empty arrays.
    { name: `${id}_tables`, type: 'int8_t', values: at > 0 ? Int8Array.from(tables.flatMap((t) => (t ? [...t] : []))) : [0] },
  ];
  const init = `{${node.inputs.length}, ${sizeOf(outShape.slice(0, axis - 1))}, ${arrays.map((a) => a.name).join(', ')}}`;
  return {
    node, params: { type: 'flexq_concat_params', init }, arrays, inputs: [...node.inputs], output: out,
    outputBytes: sizeOf(outShape), scratchBytes: 0, sources: ['concat.c'],
    call: (p) => `flexq_concat_s8(${p.params}, (const int8_t *const[]){${p.inputs.join(', ')}}, ${p.output});`,
  };
}

/** lower.ts's rule table reads these (at call time: the two modules import each other). */
export const MORE_RULES: Readonly<Record<string, Rule>> = {
  Mul: lowerMul,
  Resize: lowerResize,
  ConvTranspose: lowerConvTranspose,
  Transpose: lowerTranspose,
  Pad: lowerPad,
  Concat: lowerConcat,
};
