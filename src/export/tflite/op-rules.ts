// IR op → TFLite builtin operator(s): the one table of what TFLite export writes, one rule per IR op.
// Versions are the ones the TFLite converter gives the op with int8 tensors.

import { intAttr, intsAttr, stringAttr } from '../../ops/contract.js';
import { nearestAttributes, nearestIndices } from '../../ops/resize.js';
import { window2d, type Window2d } from '../../ops/window.js';
import type { Node } from '../../ir/graph.js';
import { normalizeAxis } from '../../ir/shape.js';
import type { QuantizedWeight } from '../../ir/quantized-graph.js';
import { hardSigmoid, tfliteTable } from '../../quant/tflite-lut.js';
import { ActivationFunctionType, BuiltinOperator, BuiltinOptionsType, FIELD, Padding, TensorType } from '../../tflite/schema.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../../ir/layout.js';
import { littleEndian, nhwcIsNchwOrder, permuteInt8, tfliteAxes, tfliteShape } from './layout.js';
import { fusedActivationField, TfliteLowering } from './lowering-state.js';

type OpRule = (l: TfliteLowering, node: Node) => void;

const output = (l: TfliteLowering, node: Node): number => l.activation(node.outputs[0], node);

// ---- Windows ---------------------------------------------------------------------------------------------

/** TFLite's SAME pads of one axis, [before, after]: the odd pixel goes after. */
function samePads(input: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((Math.ceil(input / stride) - 1) * stride + (kernel - 1) * dilation + 1 - input, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** SAME or VALID when one of them gives exactly the IR window's pads and output size, else undefined. */
function paddingOf(w: Window2d, input: readonly number[], out: readonly number[]): number | undefined {
  const [h, wd] = [input[2], input[3]];
  const extent = (i: number) => (w.kernel[i] - 1) * w.dilations[i] + 1;
  const validOut = [Math.floor((h - extent(0)) / w.strides[0]) + 1, Math.floor((wd - extent(1)) / w.strides[1]) + 1];
  if (w.pads.every((p) => p === 0) && validOut[0] === out[2] && validOut[1] === out[3]) return Padding.VALID;
  const [top, bottom] = samePads(h, w.kernel[0], w.strides[0], w.dilations[0]);
  const [left, right] = samePads(wd, w.kernel[1], w.strides[1], w.dilations[1]);
  const same = [top, left, bottom, right];
  if (same.every((p, i) => p === w.pads[i]) && Math.ceil(h / w.strides[0]) === out[2] && Math.ceil(wd / w.strides[1]) === out[3]) return Padding.SAME;
  return undefined;
}

/** PAD with the input's zero point (the grid's real zero) around an NHWC activation; returns the padded tensor. */
function padActivation(l: TfliteLowering, node: Node, x: string, pads: readonly number[]): number {
  const [n, c, h, w] = l.irShape(x, node);
  const [top, left, bottom, right] = pads;
  const grid = l.grid(x, node);
  const padded = l.intermediate(`${x}/padded`, [n, h + top + bottom, w + left + right, c], grid);
  const paddings = l.int32Constant(`${x}/paddings`, [4, 2], [0, 0, top, bottom, left, right, 0, 0]);
  l.addOperator({ code: BuiltinOperator.PAD, version: 2, inputs: [l.activation(x, node), paddings], outputs: [padded], options: { type: BuiltinOptionsType.PadOptions, fields: [] } });
  return padded;
}

// ---- Weighted layers -------------------------------------------------------------------------------------

function weightOf(l: TfliteLowering, node: Node, i: number): QuantizedWeight {
  const w = l.q.weights.get(node.inputs[i]);
  return w ?? l.unsupported(node, `input '${node.inputs[i]}' has no quantized integers; TFLite export needs the weights of Conv, Gemm and MatMul quantized`);
}

/** A weight in its TFLite layout; per-channel scales index `channelDimension` there (0 for OHWI and FC, 3 for 1HWO). */
function weightTensor(l: TfliteLowering, name: string, w: QuantizedWeight, shape: readonly number[], values: Int8Array, channelDimension = 0): number {
  const channels = w.channelScales ? { scales: w.channelScales, dimension: channelDimension } : undefined;
  return l.parameter({ name, shape, type: TensorType.INT8, quantization: { scale: w.scale, zeroPoint: 0, channels }, data: littleEndian(values) });
}

/**
 * The int32 bias of input i at scale fp32(s_in·s_w); zeros when the node has none (TFLite's int8 convolution and
 * fully-connected kernels of some versions refuse to run without one).
 */
function biasTensor(l: TfliteLowering, node: Node, i: number, units: number, weight: QuantizedWeight): number {
  const name = node.inputs[i];
  const inputScale = l.grid(node.inputs[0], node).scale;
  const b = name
    ? l.q.biases.get(name)
    : { values: new Int32Array(units), scale: Math.fround(inputScale * weight.scale), channelScales: weight.channelScales?.map((s) => Math.fround(inputScale * s)) };
  if (!b) return l.unsupported(node, `bias '${name}' has no int32 values; re-quantize the model`);
  const channels = b.channelScales ? { scales: b.channelScales, dimension: 0 } : undefined;
  return l.parameter({ name: name || `${node.outputs[0]}/bias`, shape: [units], type: TensorType.INT32, quantization: { scale: b.scale, zeroPoint: 0, channels }, data: littleEndian(b.values) });
}

/** IR [M][C][kh][kw] → OHWI [M][kh][kw][C]; a depthwise IR [M][1][kh][kw] → 1HWO [1][kh][kw][M]. */
const TO_OHWI = [0, 2, 3, 1];
const TO_1HWO = [1, 2, 3, 0];

const lowerConv: OpRule = (l, node) => {
  const x = node.inputs[0];
  const input = l.irShape(x, node);
  const out = l.irShape(node.outputs[0], node);
  const w = weightOf(l, node, 1);
  const group = intAttr(node, 'group', 1);
  const channels = input[1];
  const depthwise = group > 1 && group === channels && w.shape[1] === 1;
  if (group !== 1 && !depthwise) l.unsupported(node, `group=${group} is not supported for TFLite export; supported: 1 or ${channels} (depthwise)`);
  const window = window2d(node);
  let padding = paddingOf(window, input, out);
  let xt: number;
  if (padding === undefined) {
    xt = padActivation(l, node, x, window.pads);
    padding = Padding.VALID;
  } else xt = l.activation(x, node);
  const [m, , kh, kw] = w.shape;
  const filter = depthwise
    ? weightTensor(l, node.inputs[1], w, [1, kh, kw, m], permuteInt8(w.values, w.shape, TO_1HWO), 3)
    : weightTensor(l, node.inputs[1], w, [m, kh, kw, channels], permuteInt8(w.values, w.shape, TO_OHWI));
  const bias = biasTensor(l, node, 2, m, w);
  const common = { padding, stride_w: window.strides[1], stride_h: window.strides[0], dilation_w_factor: window.dilations[1], dilation_h_factor: window.dilations[0] };
  const f = depthwise ? FIELD.DepthwiseConv2DOptions : FIELD.Conv2DOptions;
  const fields = [
    { id: f.padding, kind: 'int8' as const, value: common.padding },
    { id: f.stride_w, kind: 'int32' as const, value: common.stride_w },
    { id: f.stride_h, kind: 'int32' as const, value: common.stride_h },
    { id: f.dilation_w_factor, kind: 'int32' as const, value: common.dilation_w_factor },
    { id: f.dilation_h_factor, kind: 'int32' as const, value: common.dilation_h_factor },
    fusedActivationField(f.fused_activation_function, node.attrs.activation),
    ...(depthwise ? [{ id: FIELD.DepthwiseConv2DOptions.depth_multiplier, kind: 'int32' as const, value: m / channels }] : []),
  ];
  l.addOperator({
    code: depthwise ? BuiltinOperator.DEPTHWISE_CONV_2D : BuiltinOperator.CONV_2D,
    version: 3,
    inputs: [xt, filter, bias],
    outputs: [output(l, node)],
    options: { type: depthwise ? BuiltinOptionsType.DepthwiseConv2DOptions : BuiltinOptionsType.Conv2DOptions, fields },
  });
};

/** FULLY_CONNECTED over a rank-2 input with weights [units][depth]. */
function fullyConnected(l: TfliteLowering, node: Node, w: QuantizedWeight, rows: Int8Array, units: number, depth: number, bias: number): void {
  if (l.irShape(node.inputs[0], node).length !== 2) l.unsupported(node, `input of rank ${l.irShape(node.inputs[0], node).length}; TFLite export writes FULLY_CONNECTED for rank-2 inputs: flatten first`);
  const filter = weightTensor(l, node.inputs[1], w, [units, depth], rows);
  l.addOperator({
    code: BuiltinOperator.FULLY_CONNECTED,
    version: 4,
    inputs: [l.activation(node.inputs[0], node), filter, bias],
    outputs: [output(l, node)],
    options: { type: BuiltinOptionsType.FullyConnectedOptions, fields: [fusedActivationField(FIELD.FullyConnectedOptions.fused_activation_function, node.attrs.activation)] },
  });
}

const lowerGemm: OpRule = (l, node) => {
  const [alpha, beta, transA, transB] = [node.attrs.alpha ?? 1, node.attrs.beta ?? 1, intAttr(node, 'transA', 0), intAttr(node, 'transB', 0)];
  if (alpha !== 1 || beta !== 1 || transA !== 0) l.unsupported(node, `alpha ${String(alpha)}, beta ${String(beta)}, transA ${String(transA)}: TFLite's FULLY_CONNECTED needs 1, 1, 0`);
  const w = weightOf(l, node, 1);
  const [units, depth] = transB === 1 ? w.shape : [w.shape[1], w.shape[0]];
  fullyConnected(l, node, w, transB === 1 ? w.values : permuteInt8(w.values, w.shape, [1, 0]), units, depth, biasTensor(l, node, 2, units, w));
};

const lowerMatMul: OpRule = (l, node) => {
  const w = weightOf(l, node, 1);
  const [depth, units] = w.shape;
  fullyConnected(l, node, w, permuteInt8(w.values, w.shape, [1, 0]), units, depth, biasTensor(l, node, 2, units, w));
};

/** IR ConvTranspose weight [C][M][kh][kw] → TFLite's TRANSPOSE_CONV filter [M][kh][kw][C]. */
const TRANSPOSED_TO_OHWI = [1, 2, 3, 0];

/**
 * ConvTranspose (and MediaPipe's Convolution2DTransposeBias) → TRANSPOSE_CONV with its int32 bias. TFLite crops the
 * full (in − 1)·s + k output by SAME's pads (the odd one after) or, with VALID, only at the end to output_shape.
 */
const lowerConvTranspose: OpRule = (l, node) => {
  const input = l.irShape(node.inputs[0], node);
  const out = l.irShape(node.outputs[0], node);
  const w = weightOf(l, node, 1);
  const window = window2d(node);
  if (intAttr(node, 'group', 1) !== 1) l.unsupported(node, `group ${intAttr(node, 'group', 1)}; TFLite's TRANSPOSE_CONV has one group`);
  if (window.dilations.some((d) => d !== 1)) l.unsupported(node, `dilations ${window.dilations.join(',')}; TFLite's TRANSPOSE_CONV has none`);
  if (intsAttr(node, 'outputPadding', [0, 0]).some((p) => p !== 0)) l.unsupported(node, 'output_padding; TFLite export writes TRANSPOSE_CONV without it');
  const crops = [0, 1].map((a) => {
    const full = (input[2 + a] - 1) * window.strides[a] + window.kernel[a];
    const total = full - out[2 + a];
    return { before: window.pads[a], after: window.pads[a + 2], same: [Math.floor(total / 2), total - Math.floor(total / 2)] };
  });
  const valid = crops.every((c) => c.before === 0);
  const same = crops.every((c) => c.before === c.same[0] && c.after === c.same[1]);
  if (!valid && !same)
    l.unsupported(node, `pads [${window.pads.join(',')}] for input [${input.join(',')}] and output [${out.join(',')}] are neither TFLite's SAME (${crops.map((c) => c.same.join('/')).join(', ')}) nor VALID (no crop at the start)`);
  const [channels, m, kh, kw] = w.shape;
  const filter = weightTensor(l, node.inputs[1], w, [m, kh, kw, channels], permuteInt8(w.values, w.shape, TRANSPOSED_TO_OHWI));
  const bias = biasTensor(l, node, 2, m, w);
  const outputShape = l.int32Constant(`${node.outputs[0]}/output_shape`, [4], tfliteShape(out));
  const f = FIELD.TransposeConvOptions;
  const activation = fusedActivationField(f.fused_activation_function, node.attrs.activation);
  l.addOperator({
    code: BuiltinOperator.TRANSPOSE_CONV,
    // 3: int8 with a bias; 4: a fused activation.
    version: activation.value === ActivationFunctionType.NONE ? 3 : 4,
    inputs: [outputShape, filter, l.activation(node.inputs[0], node), bias],
    outputs: [output(l, node)],
    options: {
      type: BuiltinOptionsType.TransposeConvOptions,
      fields: [
        { id: f.padding, kind: 'int8', value: valid ? Padding.VALID : Padding.SAME },
        { id: f.stride_w, kind: 'int32', value: window.strides[1] },
        { id: f.stride_h, kind: 'int32', value: window.strides[0] },
        activation,
      ],
    },
  });
};

// ---- Windows without weights -----------------------------------------------------------------------------

function pool(code: number): OpRule {
  return (l, node) => {
    const window = window2d(node);
    const input = l.irShape(node.inputs[0], node);
    const padding = paddingOf(window, input, l.irShape(node.outputs[0], node));
    if (window.dilations.some((d) => d !== 1)) l.unsupported(node, `dilations ${window.dilations.join(',')}: TFLite pools have no dilation`);
    if (padding === undefined)
      return l.unsupported(node, `pads [${window.pads.join(',')}] with the output size of this node are neither TFLite's SAME nor VALID for input [${input.join(',')}]; TFLite pools only pad that way`);
    if (padding === Padding.SAME && intAttr(node, 'countIncludePad', 0) === 1 && window.pads.some((p) => p !== 0))
      l.unsupported(node, 'countIncludePad = 1 with pads: TFLite AVERAGE_POOL_2D divides by the unpadded window; re-export the model without count_include_pad');
    const f = FIELD.Pool2DOptions;
    l.addOperator({
      code,
      version: 2,
      inputs: [l.activation(node.inputs[0], node)],
      outputs: [output(l, node)],
      options: {
        type: BuiltinOptionsType.Pool2DOptions,
        fields: [
          { id: f.padding, kind: 'int8', value: padding },
          { id: f.stride_w, kind: 'int32', value: window.strides[1] },
          { id: f.stride_h, kind: 'int32', value: window.strides[0] },
          { id: f.filter_width, kind: 'int32', value: window.kernel[1] },
          { id: f.filter_height, kind: 'int32', value: window.kernel[0] },
          { id: f.fused_activation_function, kind: 'int8', value: ActivationFunctionType.NONE },
        ],
      },
    });
  };
}

/** GlobalAveragePool → MEAN over H and W, keeping the dims: [1,1,1,C]. */
const lowerGlobalAveragePool: OpRule = (l, node) => {
  const axes = l.meanAxes(`${node.outputs[0]}/axes`, [1, 2]);
  l.addOperator({
    code: BuiltinOperator.MEAN,
    version: 2,
    inputs: [l.activation(node.inputs[0], node), axes],
    outputs: [output(l, node)],
    options: { type: BuiltinOptionsType.ReducerOptions, fields: [{ id: FIELD.ReducerOptions.keep_dims, kind: 'bool', value: 1 }] },
  });
};

// ---- Element-wise ----------------------------------------------------------------------------------------

/**
 * An Add's quantized constant operand (src/quant/constant-operands.ts) as an int8 tensor, right-aligned to the output's
 * rank and in its TFLite layout (a [C,1,1] shift of NCHW becomes [1,1,1,C]).
 */
function constantOperand(l: TfliteLowering, node: Node, name: string): number {
  const w = l.q.weights.get(name)!;
  const rank = l.irShape(node.outputs[0], node).length;
  const shape = [...new Array<number>(Math.max(rank - w.shape.length, 0)).fill(1), ...w.shape];
  const values = shape.length === 4 ? permuteInt8(w.values, shape, NCHW_TO_NHWC) : w.values;
  return weightTensor(l, name, w, tfliteShape(shape), values);
}

function binary(code: number, optionsType: number): OpRule {
  return (l, node) => {
    const inputs = node.inputs.map((x) => (node.op === 'Add' && l.q.weights.has(x) ? constantOperand(l, node, x) : l.activation(x, node)));
    // fused_activation_function is field 0 of AddOptions and MulOptions alike.
    const fields = [fusedActivationField(FIELD.AddOptions.fused_activation_function, node.attrs.activation)];
    l.addOperator({ code, version: 2, inputs, outputs: [output(l, node)], options: { type: optionsType, fields } });
  };
}

function unary(code: number, version: number): OpRule {
  return (l, node) => l.addOperator({ code, version, inputs: [l.activation(node.inputs[0], node)], outputs: [output(l, node)] });
}

/** Relu → RELU; Clip(0, 6) → RELU6; Clip(−1, 1) → RELU_N1_TO_1; Clip(0, ∞) → RELU. */
const lowerClip: OpRule = (l, node) => {
  const [lo, hi] = node.op === 'Relu' ? [0, Infinity] : [Number(node.attrs.min ?? -Infinity), Number(node.attrs.max ?? Infinity)];
  const code = lo === 0 && hi === Infinity ? BuiltinOperator.RELU : lo === 0 && hi === 6 ? BuiltinOperator.RELU6 : lo === -1 && hi === 1 ? BuiltinOperator.RELU_N1_TO_1 : undefined;
  if (code === undefined) return l.unsupported(node, `Clip(${lo}, ${hi}) has no TFLite builtin; supported bounds: (0, ∞) RELU, (0, 6) RELU6, (−1, 1) RELU_N1_TO_1`);
  unary(code, 2)(l, node);
};

/** TFLite's int8 LOGISTIC and SOFTMAX produce scale 1/256, zero point −128 only. */
function checkUnitGrid(l: TfliteLowering, node: Node): void {
  const g = l.grid(node.outputs[0], node);
  if (g.scale !== 1 / 256 || g.zeroPoint !== -128)
    l.unsupported(node, `output grid scale ${g.scale}, zero point ${g.zeroPoint}; TFLite's int8 ${node.op === 'Softmax' ? 'SOFTMAX' : 'LOGISTIC'} writes scale 1/256, zero point −128: re-quantize the model`);
}

const lowerSigmoid: OpRule = (l, node) => {
  checkUnitGrid(l, node);
  unary(BuiltinOperator.LOGISTIC, 2)(l, node);
};

/**
 * HardSigmoid has no TFLite builtin: its int8 table (TFLite's LUTPopulateInt8 form, src/quant/tflite-lut.ts, the
 * integer runtime's own) read by GATHER at index x + 128, the index made by CAST (the raw int8 → int32) and an
 * int32 ADD. Every step is exact integer data movement, so any interpreter gives the table's bytes.
 */
const lowerHardSigmoid: OpRule = (l, node) => {
  const [x, y] = [node.inputs[0], node.outputs[0]];
  const inputGrid = l.grid(x, node);
  const outputGrid = l.grid(y, node);
  const table = tfliteTable(hardSigmoid(Number(node.attrs.alpha ?? 0.2), Number(node.attrs.beta ?? 0.5)), inputGrid, outputGrid);
  const input = l.activation(x, node);
  const shape = l.tensors[input].shape;
  const raw = l.addTensor({ name: `${y}/raw`, shape, type: TensorType.INT32 });
  const c = FIELD.CastOptions;
  l.addOperator({
    code: BuiltinOperator.CAST,
    version: 2,
    inputs: [input],
    outputs: [raw],
    options: { type: BuiltinOptionsType.CastOptions, fields: [{ id: c.in_data_type, kind: 'int8', value: TensorType.INT8 }, { id: c.out_data_type, kind: 'int8', value: TensorType.INT32 }] },
  });
  const index = l.addTensor({ name: `${y}/index`, shape, type: TensorType.INT32 });
  const offset = l.int32Constant(`${y}/offset`, [1], [128]);
  l.addOperator({ code: BuiltinOperator.ADD, version: 1, inputs: [raw, offset], outputs: [index], options: { type: BuiltinOptionsType.AddOptions, fields: [] } });
  const values = l.addTensor({ name: `${y}/table`, shape: [256], type: TensorType.INT8, quantization: { scale: outputGrid.scale, zeroPoint: outputGrid.zeroPoint }, data: littleEndian(table) });
  const g = FIELD.GatherOptions;
  l.addOperator({
    code: BuiltinOperator.GATHER,
    version: 2,
    inputs: [values, index],
    outputs: [output(l, node)],
    options: { type: BuiltinOptionsType.GatherOptions, fields: [{ id: g.axis, kind: 'int32', value: 0 }] },
  });
};

/** SOFTMAX runs over TFLite's last axis: channels of a rank-4 value (NCHW axis 1), the last axis otherwise. */
const lowerSoftmax: OpRule = (l, node) => {
  const shape = l.irShape(node.inputs[0], node);
  const axis = normalizeAxis(intAttr(node, 'axis', -1), shape.length);
  const last = shape.length === 4 ? 1 : shape.length - 1;
  if (axis !== last)
    l.unsupported(node, `softmax over axis ${axis} of [${shape.join(',')}]; TFLite's SOFTMAX runs over the ${shape.length === 4 ? 'channel' : 'last'} axis`);
  checkUnitGrid(l, node);
  l.addOperator({
    code: BuiltinOperator.SOFTMAX,
    version: 2,
    inputs: [l.activation(node.inputs[0], node)],
    outputs: [output(l, node)],
    options: { type: BuiltinOptionsType.SoftmaxOptions, fields: [{ id: FIELD.SoftmaxOptions.beta, kind: 'float32', value: 1 }] },
  });
};

// ---- Data movement ---------------------------------------------------------------------------------------

/** Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same elements in the IR's (NCHW) order, in a new shape. */
const lowerReshape: OpRule = (l, node) => {
  const [x, y] = [node.inputs[0], node.outputs[0]];
  const [from, to] = [l.irShape(x, node), l.irShape(y, node)];
  const grid = l.grid(x, node);
  let source = l.activation(x, node);
  if (!nhwcIsNchwOrder(from)) {
    const nchw = l.intermediate(`${x}/nchw`, from, grid);
    l.transpose(source, nchw, NHWC_TO_NCHW);
    source = nchw;
  }
  const target = output(l, node);
  if (nhwcIsNchwOrder(to)) {
    l.reshape(source, target, tfliteShape(to));
    return;
  }
  const nchw = l.intermediate(`${y}/nchw`, to, grid);
  l.reshape(source, nchw, to);
  l.transpose(nchw, target, NCHW_TO_NHWC);
};

/**
 * TFLite's int8 CONCATENATION takes its inputs on the output's grid only: an input on another grid is first
 * requantized by QUANTIZE (int8 → int8).
 */
function onGrid(l: TfliteLowering, node: Node, x: string): number {
  const [from, to] = [l.grid(x, node), l.grid(node.outputs[0], node)];
  const input = l.activation(x, node);
  if (from.scale === to.scale && from.zeroPoint === to.zeroPoint) return input;
  const requantized = l.intermediate(`${x}/requantized`, l.tensors[input].shape, to);
  l.addOperator({ code: BuiltinOperator.QUANTIZE, version: 2, inputs: [input], outputs: [requantized] });
  return requantized;
}

const lowerConcat: OpRule = (l, node) => {
  const rank = l.irShape(node.outputs[0], node).length;
  const axis = normalizeAxis(intAttr(node, 'axis'), rank);
  const f = FIELD.ConcatenationOptions;
  l.addOperator({
    code: BuiltinOperator.CONCATENATION,
    version: 2,
    inputs: node.inputs.map((x) => onGrid(l, node, x)),
    outputs: [output(l, node)],
    options: {
      type: BuiltinOptionsType.ConcatenationOptions,
      fields: [
        { id: f.axis, kind: 'int32', value: rank === 4 ? NCHW_TO_NHWC.indexOf(axis as 0 | 1 | 2 | 3) : axis },
        { id: f.fused_activation_function, kind: 'int8', value: ActivationFunctionType.NONE },
      ],
    },
  });
};

/** Data movement keeps its input's grid: TFLite's int8 TRANSPOSE, PAD and RESIZE_* need the same on both sides. */
function checkSameGrid(l: TfliteLowering, node: Node): void {
  const [x, y] = [l.grid(node.inputs[0], node), l.grid(node.outputs[0], node)];
  if (x.scale !== y.scale || x.zeroPoint !== y.zeroPoint)
    l.unsupported(node, `input grid (scale ${x.scale}, zero point ${x.zeroPoint}) differs from output grid (scale ${y.scale}, zero point ${y.zeroPoint}); TFLite's int8 ${node.op} keeps one grid: re-quantize the model`);
}

/** Transpose → TRANSPOSE with the IR's perm seen through both tensors' TFLite layouts (NHWC for rank 4). */
const lowerTranspose: OpRule = (l, node) => {
  checkSameGrid(l, node);
  const rank = l.irShape(node.inputs[0], node).length;
  const perm = intsAttr(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  // TFLite axis i of the output is IR output axis out[i] = IR input axis perm[out[i]], which is TFLite input axis inv[…].
  const [inAxes, outAxes] = [tfliteAxes(rank), tfliteAxes(rank)];
  const inverse = inAxes.map((_, a) => inAxes.indexOf(a));
  l.transpose(l.activation(node.inputs[0], node), output(l, node), outAxes.map((a) => inverse[perm[a]]));
};

/** ONNX coordinate modes → TFLite's two flags; asymmetric is TF1's default (neither). */
const RESIZE_FLAGS: Readonly<Record<string, { align_corners: number; half_pixel_centers: number }>> = {
  half_pixel: { align_corners: 0, half_pixel_centers: 1 },
  align_corners: { align_corners: 1, half_pixel_centers: 0 },
  asymmetric: { align_corners: 0, half_pixel_centers: 0 },
};

/**
 * TFLite's RESIZE_NEAREST_NEIGHBOR source index of every output index along one axis (reference GetNearestNeighbor):
 * scale = fp32(in/out), or fp32((in − 1)/(out − 1)) with align_corners; p = fp32((o + 0.5 if half_pixel_centers)·scale);
 * round half away from zero with align_corners, else floor; clamped to [0, in − 1].
 */
function tfliteNearestIndices(input: number, output: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const f32 = Math.fround;
  const scale = alignCorners && output > 1 ? f32((input - 1) / (output - 1)) : f32(input / output);
  return Int32Array.from({ length: output }, (_, o) => {
    const p = f32(f32(o + (halfPixelCenters ? 0.5 : 0)) * scale);
    return Math.min(Math.max(alignCorners ? Math.sign(p) * Math.round(Math.abs(p)) : Math.floor(p), 0), input - 1);
  });
}

/** TFLite's two flags, the pair each ONNX coordinate mode usually matches first (TensorFlow forbids both set). */
const NEAREST_FLAGS: readonly (readonly [string, { align_corners: number; half_pixel_centers: number }])[] = [
  ['asymmetric', RESIZE_FLAGS.asymmetric],
  ['half_pixel', RESIZE_FLAGS.half_pixel],
  ['align_corners', RESIZE_FLAGS.align_corners],
];

/**
 * Nearest → RESIZE_NEAREST_NEIGHBOR, a copy of source pixels: the flags whose source indices equal onnxruntime's
 * (the runtime's, src/ops/resize.ts) on both axes at this size, the node's own coordinate mode tried first.
 */
function lowerResizeNearest(l: TfliteLowering, node: Node, input: readonly number[], out: readonly number[]): void {
  const { coordinates, nearest } = nearestAttributes(node);
  const same = (a: Int32Array, b: Int32Array) => a.every((v, i) => v === b[i]);
  const wanted = [2, 3].map((k) => nearestIndices(input[k], out[k], coordinates, nearest));
  const order = [...NEAREST_FLAGS].sort(([a], [b]) => Number(b === coordinates) - Number(a === coordinates));
  const match = order.find(([, f]) => [2, 3].every((k, i) => same(tfliteNearestIndices(input[k], out[k], f.align_corners === 1, f.half_pixel_centers === 1), wanted[i])));
  if (!match)
    l.unsupported(node, `nearest Resize '${coordinates}' with nearest_mode '${nearest}' from [${input.join(',')}] to [${out.join(',')}] picks source pixels no RESIZE_NEAREST_NEIGHBOR flags reproduce; use 'asymmetric' with 'floor', or 'half_pixel' / 'align_corners' with 'round_prefer_ceil'`);
  addResize(l, node, BuiltinOperator.RESIZE_NEAREST_NEIGHBOR, match[1], out);
}

/** Resize of H and W: bilinear → RESIZE_BILINEAR (its 10-bit fixed-point integer kernel: runtime/kernels/resize.ts), nearest → RESIZE_NEAREST_NEIGHBOR. */
const lowerResize: OpRule = (l, node) => {
  checkSameGrid(l, node);
  const [input, out] = [l.irShape(node.inputs[0], node), l.irShape(node.outputs[0], node)];
  const mode = stringAttr(node, 'mode', 'nearest');
  const coordinates = stringAttr(node, 'coordinateTransformationMode', 'half_pixel');
  if (input.length !== 4 || input[0] !== out[0] || input[1] !== out[1]) l.unsupported(node, `resizes [${input.join(',')}] to [${out.join(',')}]; TFLite's RESIZE_* scale H and W of a rank-4 tensor only`);
  if (mode === 'nearest') return lowerResizeNearest(l, node, input, out);
  const flags = RESIZE_FLAGS[coordinates];
  if (mode !== 'linear') l.unsupported(node, `mode '${mode}'; TFLite export writes RESIZE_BILINEAR for 'linear' and RESIZE_NEAREST_NEIGHBOR for 'nearest'`);
  if (!flags) l.unsupported(node, `coordinate_transformation_mode '${coordinates}'; TFLite's RESIZE_BILINEAR has ${Object.keys(RESIZE_FLAGS).join(', ')}`);
  // A constant size: LiteRT.js and tfjs-tflite then run the op in XNNPACK on both CPU paths (runtime/kernels/resize.ts).
  addResize(l, node, BuiltinOperator.RESIZE_BILINEAR, flags, out);
};

/** RESIZE_BILINEAR or RESIZE_NEAREST_NEIGHBOR to a constant size, with TFLite's two flags (the two options tables share their layout). */
function addResize(l: TfliteLowering, node: Node, code: number, flags: { align_corners: number; half_pixel_centers: number }, out: readonly number[]): void {
  const bilinear = code === BuiltinOperator.RESIZE_BILINEAR;
  const f = bilinear ? FIELD.ResizeBilinearOptions : FIELD.ResizeNearestNeighborOptions;
  l.addOperator({
    code,
    // 3: half_pixel_centers; 2: int8.
    version: flags.half_pixel_centers ? 3 : 2,
    inputs: [l.activation(node.inputs[0], node), l.int32Constant(`${node.outputs[0]}/size`, [2], [out[2], out[3]])],
    outputs: [output(l, node)],
    options: {
      type: bilinear ? BuiltinOptionsType.ResizeBilinearOptions : BuiltinOptionsType.ResizeNearestNeighborOptions,
      fields: [
        { id: f.align_corners, kind: 'bool', value: flags.align_corners },
        { id: f.half_pixel_centers, kind: 'bool', value: flags.half_pixel_centers },
      ],
    },
  });
}

/** Pad with a constant 0 (the grid's zero point) → PAD; other modes have no int8 TFLite builtin. */
const lowerPad: OpRule = (l, node) => {
  checkSameGrid(l, node);
  if ((node.attrs.mode ?? 'constant') !== 'constant' || Number(node.attrs.value ?? 0) !== 0)
    l.unsupported(node, `mode '${String(node.attrs.mode)}' with value ${String(node.attrs.value ?? 0)}; TFLite export writes PAD for constant padding with 0`);
  const shape = l.irShape(node.inputs[0], node);
  const pads = node.attrs.pads as readonly number[];
  const r = shape.length;
  const order = tfliteAxes(r);
  if (pads[0] !== 0 || pads[r] !== 0) l.unsupported(node, 'padding the batch dimension; TFLite export pads the other dimensions only');
  const paddings = l.int32Constant(`${node.outputs[0]}/paddings`, [r, 2], order.flatMap((a) => [pads[a], pads[a + r]]));
  l.addOperator({ code: BuiltinOperator.PAD, version: 2, inputs: [l.activation(node.inputs[0], node), paddings], outputs: [output(l, node)], options: { type: BuiltinOptionsType.PadOptions, fields: [] } });
};

export const OP_RULES: ReadonlyMap<string, OpRule> = new Map<string, OpRule>([
  ['Conv', lowerConv],
  ['ConvTranspose', lowerConvTranspose],
  ['Gemm', lowerGemm],
  ['MatMul', lowerMatMul],
  ['Add', binary(BuiltinOperator.ADD, BuiltinOptionsType.AddOptions)],
  ['Mul', binary(BuiltinOperator.MUL, BuiltinOptionsType.MulOptions)],
  ['AveragePool', pool(BuiltinOperator.AVERAGE_POOL_2D)],
  ['MaxPool', pool(BuiltinOperator.MAX_POOL_2D)],
  ['GlobalAveragePool', lowerGlobalAveragePool],
  ['Relu', lowerClip],
  ['Clip', lowerClip],
  ['Sigmoid', lowerSigmoid],
  ['HardSigmoid', lowerHardSigmoid],
  ['HardSwish', unary(BuiltinOperator.HARD_SWISH, 1)],
  ['Softmax', lowerSoftmax],
  ['Reshape', lowerReshape],
  ['Flatten', lowerReshape],
  ['Squeeze', lowerReshape],
  ['Unsqueeze', lowerReshape],
  ['Identity', lowerReshape],
  ['Concat', lowerConcat],
  ['Pad', lowerPad],
  ['Transpose', lowerTranspose],
  ['Resize', lowerResize],
]);
