// TFLite builtin operator → IR nodes: the one table of what the TFLite importer reads (NHWC → NCHW).
import { fail } from '../../errors.js';
import type { Attrs } from '../../ir/graph.js';
import { formatShape } from '../../ir/shape.js';
import { transposeConst } from '../../ops/transpose.js';
import { windowProblem } from '../../ops/window.js';
import {
  ActivationFunctionType,
  BuiltinOperator,
  Padding,
  type Conv2DOptions,
  type DepthwiseConv2DOptions,
  type TfliteOperatorCode,
} from './reader.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../../ir/layout.js';
import { ACTIVATION_NODES, TfliteGraphBuilder, type OpSite } from './graph-builder.js';

/** Depthwise filter [1, kh, kw, C·M] → [C·M, 1, kh, kw]. */
const DEPTHWISE_TO_OIHW = [3, 0, 1, 2] as const;
/** Transposed-conv filter [O, kh, kw, I] → ONNX ConvTranspose [I, O, kh, kw]: the same permutation. */
const OHWI_TO_IOHW = DEPTHWISE_TO_OIHW;

/** TFLite's padding of one spatial axis, [before, after]: SAME puts the odd pixel after, VALID pads nothing. */
function axisPads(padding: number, input: number, kernel: number, stride: number, dilation: number): [number, number] {
  if (padding === Padding.VALID) return [0, 0];
  const total = Math.max((Math.ceil(input / stride) - 1) * stride + (kernel - 1) * dilation + 1 - input, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Pads [top, left, bottom, right] of a 2-D window over an NHWC input. */
function windowPads(padding: number, nhwc: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): number[] {
  const [top, bottom] = axisPads(padding, nhwc[1], kernel[0], strides[0], dilations[0]);
  const [left, right] = axisPads(padding, nhwc[2], kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

export type OpConverter = (b: TfliteGraphBuilder, site: OpSite) => void;

function checkPadding(b: TfliteGraphBuilder, site: OpSite, padding: number): number {
  if (padding !== Padding.SAME && padding !== Padding.VALID) fail('MODEL_INVALID', `${b.where(site)}: padding ${padding} is neither SAME (0) nor VALID (1)`);
  return padding;
}

/** Kernel, strides and dilations ≥ 1, checked before SAME padding divides by the strides. */
function checkWindow(b: TfliteGraphBuilder, site: OpSite, kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): void {
  const problem = windowProblem(kernel, strides, dilations);
  if (problem) fail('MODEL_INVALID', `${b.where(site)}: ${problem} (TFLite requires filter sizes, strides and dilations ≥ 1): re-convert the model`);
}

/** The TFLite shape of tensor i, checked to have `rank` dims. */
function shapeOfRank(b: TfliteGraphBuilder, site: OpSite, i: number, rank: number, role: string): readonly number[] {
  const shape = b.tensor(i).shape;
  if (shape.length !== rank) fail('MODEL_INVALID', `${b.where(site)}: its ${role} '${b.valueNames[i]}' has shape ${formatShape(shape)}, expected rank ${rank}`);
  return shape;
}

function biasInputs(b: TfliteGraphBuilder, site: OpSite, k: number): string[] {
  const i = b.optionalInput(site, k);
  return i === undefined ? [] : [b.plainConstant(i, b.floatConstant(site, i, 'bias'))];
}

/** Kernel, strides, dilations and explicit pads of CONV_2D and DEPTHWISE_CONV_2D (their options share these fields). */
function convWindow(b: TfliteGraphBuilder, site: OpSite, o: Conv2DOptions | DepthwiseConv2DOptions, input: readonly number[], kh: number, kw: number): Attrs {
  const strides = [o.strideH, o.strideW];
  const dilations = [o.dilationH, o.dilationW];
  checkWindow(b, site, [kh, kw], strides, dilations);
  return { kernel: [kh, kw], strides, pads: windowPads(checkPadding(b, site, o.padding), input, [kh, kw], strides, dilations), dilations };
}

function convertConv2d(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.requiredOptions(site, 'Conv2DOptions');
  const x = b.input(site, 0, 'input');
  const w = b.input(site, 1, 'filter');
  const input = shapeOfRank(b, site, x, 4, 'input');
  const filter = b.floatConstant(site, w, 'filter');
  const [, kh, kw, filterChannels] = shapeOfRank(b, site, w, 4, 'filter');
  if (input[3] % filterChannels !== 0)
    fail('MODEL_INVALID', `${b.where(site)}: input has ${input[3]} channels, not a multiple of the filter's ${filterChannels}`);
  const attrs = { ...convWindow(b, site, o, input, kh, kw), group: input[3] / filterChannels };
  const weights = b.laidOutConstant(w, 'oihw', (c) => transposeConst(c, NHWC_TO_NCHW), filter);
  b.emitWithActivation(site, 'Conv', [b.operand(x, 4), weights, ...biasInputs(b, site, 2)], attrs, o.fusedActivation, b.output(site));
}

function convertDepthwiseConv2d(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.requiredOptions(site, 'DepthwiseConv2DOptions');
  const x = b.input(site, 0, 'input');
  const w = b.input(site, 1, 'filter');
  const input = shapeOfRank(b, site, x, 4, 'input');
  const filter = b.floatConstant(site, w, 'filter');
  const [, kh, kw, outChannels] = shapeOfRank(b, site, w, 4, 'filter');
  const channels = input[3];
  if (outChannels % channels !== 0)
    fail('MODEL_INVALID', `${b.where(site)}: filter has ${outChannels} output channels, not a multiple of the input's ${channels}`);
  const attrs = { ...convWindow(b, site, o, input, kh, kw), group: channels };
  const weights = b.laidOutConstant(w, 'depthwise_oihw', (c) => transposeConst(c, DEPTHWISE_TO_OIHW), filter);
  b.emitWithActivation(site, 'Conv', [b.operand(x, 4), weights, ...biasInputs(b, site, 2)], attrs, o.fusedActivation, b.output(site));
}

function convertPool(b: TfliteGraphBuilder, site: OpSite, op: 'AveragePool' | 'MaxPool', extra: Attrs): void {
  const o = b.requiredOptions(site, 'Pool2DOptions');
  const x = b.input(site, 0, 'input');
  const input = shapeOfRank(b, site, x, 4, 'input');
  const kernel = [o.filterHeight, o.filterWidth];
  const strides = [o.strideH, o.strideW];
  checkWindow(b, site, kernel, strides, [1, 1]);
  const pads = windowPads(checkPadding(b, site, o.padding), input, kernel, strides, [1, 1]);
  b.emitWithActivation(site, op, [b.operand(x, 4)], { kernel, strides, pads, ceilMode: 0, ...extra }, o.fusedActivation, b.output(site));
}

/** FULLY_CONNECTED: y = x·Wᵀ + b over x flattened to [rows, in] in TFLite's (NHWC) element order. */
function convertFullyConnected(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.options(site, 'FullyConnectedOptions');
  if (o && o.weightsFormat !== 0)
    fail('UNSUPPORTED_ATTR', `${b.where(site)}: weights_format ${o.weightsFormat} (shuffled) is not supported; re-convert with the default weights format`);
  const x = b.input(site, 0, 'input');
  const w = b.input(site, 1, 'weights');
  const weights = b.floatConstant(site, w, 'weights');
  const [, inFeatures] = shapeOfRank(b, site, w, 2, 'weights');
  const input = b.tensor(x).shape;
  const output = b.output(site);
  const x2d =
    input.length === 2 && input[1] === inFeatures
      ? b.operand(x, 2)
      : b.reshape(b.operand(x, input.length), input.length, [-1, inFeatures], b.freshName(`${b.valueNames[x]}_2d`));
  const outShape = b.tensor(b.outputIndex(site)).shape;
  const gemmOutput = outShape.length === 2 ? output : b.freshName(`${output}_2d`);
  const inputs = [x2d, b.plainConstant(w, weights), ...biasInputs(b, site, 2)];
  b.emitWithActivation(site, 'Gemm', inputs, { alpha: 1, beta: 1, transA: 0, transB: 1 }, o?.fusedActivation ?? ActivationFunctionType.NONE, gemmOutput);
  // keep_num_dims: TFLite keeps the input's leading dims around the output features.
  if (outShape.length !== 2) b.reshape(gemmOutput, 2, [-1, ...outShape.slice(1)], output);
}

function convertReshape(b: TfliteGraphBuilder, site: OpSite): void {
  const x = b.input(site, 0, 'input');
  const shapeInput = b.optionalInput(site, 1);
  const target =
    shapeInput !== undefined && b.constant(shapeInput)
      ? b.intValues(site, shapeInput, 'shape')
      : (b.options(site, 'ReshapeOptions')?.newShape ??
        fail('UNSUPPORTED_ATTR', `${b.where(site)}: the target shape is computed at run time; flexq needs it as a constant input or in ReshapeOptions.new_shape`));
  const rank = b.rank(x);
  b.reshape(b.operand(x, rank), rank, target, b.output(site));
}

/** MEAN over the spatial axes of an NHWC tensor is a global average pool. */
function convertMean(b: TfliteGraphBuilder, site: OpSite): void {
  const x = b.input(site, 0, 'input');
  const rank = b.rank(x);
  const axes = b
    .intValues(site, b.input(site, 1, 'axes'), 'axes')
    .map((a) => (a < 0 ? a + rank : a))
    .sort((p, q) => p - q);
  if (rank !== 4 || axes.join(',') !== '1,2')
    fail('UNSUPPORTED_ATTR', `${b.where(site)}: MEAN over axes [${axes}] of a rank-${rank} tensor is not supported; supported: the spatial mean (axes [1, 2]) of a 4-D tensor`);
  const output = b.output(site);
  if (b.options(site, 'ReducerOptions')?.keepDims) {
    b.emit('GlobalAveragePool', [b.operand(x, 4)], output);
    return;
  }
  const pooled = b.emit('GlobalAveragePool', [b.operand(x, 4)], b.freshName(`${output}_pooled`));
  b.emit('Flatten', [pooled], output, { axis: 1 });
}

function convertBinary(b: TfliteGraphBuilder, site: OpSite, op: 'Add' | 'Sub' | 'Mul', options: 'AddOptions' | 'SubOptions' | 'MulOptions'): void {
  const rank = b.rank(b.outputIndex(site));
  const inputs = [b.input(site, 0, 'x'), b.input(site, 1, 'y')].map((i) => b.operand(i, rank));
  const activation = b.options(site, options)?.fusedActivation ?? ActivationFunctionType.NONE;
  b.emitWithActivation(site, op, inputs, {}, activation, b.output(site));
}

function convertConcatenation(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.requiredOptions(site, 'ConcatenationOptions');
  const rank = b.rank(b.outputIndex(site));
  if (!Number.isInteger(o.axis) || o.axis < -rank || o.axis >= rank)
    fail('MODEL_INVALID', `${b.where(site)}: axis ${o.axis} is out of range for its rank-${rank} output; expected ${-rank}..${rank - 1}`);
  const nhwcAxis = o.axis < 0 ? o.axis + rank : o.axis;
  const axis = rank === 4 ? NCHW_TO_NHWC[nhwcAxis] : nhwcAxis;
  const inputs = site.op.inputs.map((i) => b.operand(i, rank));
  b.emitWithActivation(site, 'Concat', inputs, { axis }, o.fusedActivation, b.output(site));
}

/** PAD: paddings [[before, after] per NHWC dim] → ONNX pads [befores…, afters…] in NCHW order. */
function convertPad(b: TfliteGraphBuilder, site: OpSite): void {
  const x = b.input(site, 0, 'input');
  const rank = b.rank(x);
  const paddings = b.intValues(site, b.input(site, 1, 'paddings'), 'paddings');
  if (paddings.length !== 2 * rank) fail('MODEL_INVALID', `${b.where(site)}: paddings has ${paddings.length} values, expected ${2 * rank} for rank ${rank}`);
  const axes = rank === 4 ? [...NHWC_TO_NCHW] : Array.from({ length: rank }, (_, a) => a);
  const pads = [...axes.map((a) => paddings[2 * a]), ...axes.map((a) => paddings[2 * a + 1])];
  b.emit('Pad', [b.operand(x, rank)], b.output(site), { pads, mode: 'constant', value: 0 });
}

/** SOFTMAX runs over the last TFLite axis: channels, which is axis 1 of a rank-4 NCHW value. */
function convertSoftmax(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.requiredOptions(site, 'SoftmaxOptions');
  if (o.beta !== 1) fail('UNSUPPORTED_ATTR', `${b.where(site)}: beta ${o.beta} is not supported; supported: beta 1`);
  const x = b.input(site, 0, 'input');
  const rank = b.rank(x);
  b.emit('Softmax', [b.operand(x, rank)], b.output(site), { axis: rank === 4 ? 1 : rank - 1 });
}

function convertUnary(b: TfliteGraphBuilder, site: OpSite, op: string, attrs: Attrs): void {
  const x = b.input(site, 0, 'input');
  b.emit(op, [b.operand(x, b.rank(x))], b.output(site), attrs);
}

function convertActivation(b: TfliteGraphBuilder, site: OpSite, activation: number): void {
  const node = ACTIVATION_NODES.get(activation)!;
  convertUnary(b, site, node.op, node.attrs);
}

/** RESIZE_BILINEAR(input, size) → Resize to the output tensor's size; TFLite's two flags pick the coordinate mapping. */
function convertResizeBilinear(b: TfliteGraphBuilder, site: OpSite): void {
  const o = b.options(site, 'ResizeBilinearOptions');
  const x = b.input(site, 0, 'input');
  const input = shapeOfRank(b, site, x, 4, 'input');
  const size = b.intValues(site, b.input(site, 1, 'size'), 'size');
  const out = shapeOfRank(b, site, b.outputIndex(site), 4, 'output');
  if (size.length !== 2 || size[0] !== out[1] || size[1] !== out[2])
    fail('MODEL_INVALID', `${b.where(site)}: size [${size}] does not match its output ${formatShape(out)} (NHWC); re-convert the model`);
  if (o?.alignCorners && o.halfPixelCenters)
    fail('MODEL_INVALID', `${b.where(site)}: align_corners and half_pixel_centers are both set, which TFLite rejects; re-convert the model`);
  // align_corners maps corner to corner; half_pixel_centers is ONNX's half_pixel; neither is TF1's asymmetric x·in/out.
  const coordinateTransformationMode = o?.alignCorners ? 'align_corners' : o?.halfPixelCenters ? 'half_pixel' : 'asymmetric';
  const attrs = { mode: 'linear', coordinateTransformationMode };
  // Whole-number factors go in as scales, which keep the batch free; other factors as sizes, exact but batch-fixed.
  if (out[1] % input[1] === 0 && out[2] % input[2] === 0) {
    const scales = b.newConstant(`${b.output(site)}_scales`, { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, out[1] / input[1], out[2] / input[2]) });
    b.emit('Resize', [b.operand(x, 4), '', scales], b.output(site), attrs);
    return;
  }
  const sizes = b.newConstant(`${b.output(site)}_sizes`, { dtype: 'int64', shape: [4], data: BigInt64Array.from(NHWC_TO_NCHW.map((a) => BigInt(out[a]))) });
  b.emit('Resize', [b.operand(x, 4), '', '', sizes], b.output(site), attrs);
}

/** MediaPipe's TfLitePadding in Convolution2DTransposeBias's options (TFLite's C enum, not the schema's). */
const C_PADDING = { SAME: 1, VALID: 2 } as const;

/**
 * MediaPipe's CUSTOM 'Convolution2DTransposeBias'(input, filter [O,kh,kw,I], bias [O]) → ConvTranspose. Its
 * custom options are a TfLiteTransposeConvParams struct: int32 padding, stride_w, stride_h (little-endian).
 * SAME crops P = max(0, k − (in−1) mod s − 1) output pixels, ⌊P/2⌋ before: MediaPipe's kernel, not TRANSPOSE_CONV's.
 */
function convertConvolution2DTransposeBias(b: TfliteGraphBuilder, site: OpSite): void {
  const blob = site.op.customOptions;
  if (blob.length < 12)
    fail('MODEL_INVALID', `${b.where(site)}: its custom options hold ${blob.length} bytes, expected 12 (padding, stride_w, stride_h as int32); re-export the model`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const [padding, strideW, strideH] = [0, 4, 8].map((at) => view.getInt32(at, true));
  if (padding !== C_PADDING.SAME && padding !== C_PADDING.VALID)
    fail('MODEL_INVALID', `${b.where(site)}: padding ${padding} is neither SAME (1) nor VALID (2)`);
  const x = b.input(site, 0, 'input');
  const w = b.input(site, 1, 'filter');
  const input = shapeOfRank(b, site, x, 4, 'input');
  const filter = b.floatConstant(site, w, 'filter');
  const [outChannels, kh, kw, inChannels] = shapeOfRank(b, site, w, 4, 'filter');
  if (inChannels !== input[3]) fail('MODEL_INVALID', `${b.where(site)}: input has ${input[3]} channels but the filter expects ${inChannels}`);
  const strides = [strideH, strideW];
  checkWindow(b, site, [kh, kw], strides, [1, 1]);
  const crop = (k: number, size: number, s: number): [number, number] => {
    const total = padding === C_PADDING.SAME ? Math.max(0, k - ((size - 1) % s) - 1) : 0;
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = crop(kh, input[1], strideH);
  const [left, right] = crop(kw, input[2], strideW);
  const bias = b.input(site, 2, 'bias');
  if (b.tensor(bias).shape.join() !== String(outChannels))
    fail('MODEL_INVALID', `${b.where(site)}: bias has shape ${formatShape(b.tensor(bias).shape)}, expected [${outChannels}]`);
  // OHWI → ONNX's [I, O, kh, kw]; neither kernel flips the filter.
  const weights = b.laidOutConstant(w, 'iohw', (c) => transposeConst(c, OHWI_TO_IOHW), filter);
  const attrs = { kernel: [kh, kw], strides, pads: [top, left, bottom, right], dilations: [1, 1], group: 1, outputPadding: [0, 0] };
  b.emit('ConvTranspose', [b.operand(x, 4), weights, b.plainConstant(bias, b.floatConstant(site, bias, 'bias'))], b.output(site), attrs);
}

/** DEQUANTIZE of a constant (float16 or int8 weights) is folded: its output becomes a float32 constant. */
function convertDequantize(b: TfliteGraphBuilder, site: OpSite): void {
  b.foldConstant(b.outputIndex(site), b.floatConstant(site, b.input(site, 0, 'input'), 'input'));
}

/** TRANSPOSE: the NHWC perm restated on NCHW values; on a graph input that is NCHW already (isNchwInput) it is the identity. */
function convertTranspose(b: TfliteGraphBuilder, site: OpSite): void {
  const x = b.input(site, 0, 'input');
  const rank = b.rank(x);
  const perm = b.intValues(site, b.input(site, 1, 'perm'), 'perm');
  if (perm.length !== rank || new Set(perm).size !== rank || perm.some((a) => a < 0 || a >= rank))
    fail('MODEL_INVALID', `${b.where(site)}: perm [${perm}] is not a permutation of the ${rank} axes of its input`);
  if (b.nchwInputs.has(x)) {
    b.emit('Identity', [b.valueNames[x]], b.output(site));
    return;
  }
  // IR axis j of the output is TFLite axis NHWC_TO_NCHW[j] = input TFLite axis perm[…] = input IR axis NCHW_TO_NHWC[…].
  const irPerm = rank === 4 ? NHWC_TO_NCHW.map((a) => NCHW_TO_NHWC[perm[a]]) : perm;
  b.emit('Transpose', [b.operand(x, rank)], b.output(site), { perm: irPerm });
}

/** The one table from TFLite builtin operator to its conversion. */
export const CONVERTERS: ReadonlyMap<number, OpConverter> = new Map<number, OpConverter>([
  [BuiltinOperator.ADD, (b, s) => convertBinary(b, s, 'Add', 'AddOptions')],
  [BuiltinOperator.AVERAGE_POOL_2D, (b, s) => convertPool(b, s, 'AveragePool', { countIncludePad: 0 })],
  [BuiltinOperator.CONCATENATION, convertConcatenation],
  [BuiltinOperator.CONV_2D, convertConv2d],
  [BuiltinOperator.DEPTHWISE_CONV_2D, convertDepthwiseConv2d],
  [BuiltinOperator.DEQUANTIZE, convertDequantize],
  [BuiltinOperator.FULLY_CONNECTED, convertFullyConnected],
  [BuiltinOperator.HARD_SWISH, (b, s) => convertUnary(b, s, 'HardSwish', {})],
  [BuiltinOperator.LOGISTIC, (b, s) => convertUnary(b, s, 'Sigmoid', {})],
  [BuiltinOperator.MAX_POOL_2D, (b, s) => convertPool(b, s, 'MaxPool', {})],
  [BuiltinOperator.MEAN, convertMean],
  [BuiltinOperator.MUL, (b, s) => convertBinary(b, s, 'Mul', 'MulOptions')],
  [BuiltinOperator.PAD, convertPad],
  [BuiltinOperator.RELU, (b, s) => convertActivation(b, s, ActivationFunctionType.RELU)],
  [BuiltinOperator.RELU6, (b, s) => convertActivation(b, s, ActivationFunctionType.RELU6)],
  [BuiltinOperator.RELU_N1_TO_1, (b, s) => convertActivation(b, s, ActivationFunctionType.RELU_N1_TO_1)],
  [BuiltinOperator.RESHAPE, convertReshape],
  [BuiltinOperator.RESIZE_BILINEAR, convertResizeBilinear],
  [BuiltinOperator.SOFTMAX, convertSoftmax],
  [BuiltinOperator.SUB, (b, s) => convertBinary(b, s, 'Sub', 'SubOptions')],
  [BuiltinOperator.TRANSPOSE, convertTranspose],
]);

/** The custom operators flexq reads, by custom_code. */
export const CUSTOM_CONVERTERS: ReadonlyMap<string, OpConverter> = new Map<string, OpConverter>([
  ['Convolution2DTransposeBias', convertConvolution2DTransposeBias],
]);

/** The conversion of an operator code: a builtin by number from `builtins`, a CUSTOM one by its custom_code. */
export function converterOf(code: TfliteOperatorCode, builtins: ReadonlyMap<number, OpConverter> = CONVERTERS): OpConverter | undefined {
  return code.builtinCode === BuiltinOperator.CUSTOM ? CUSTOM_CONVERTERS.get(code.customCode) : builtins.get(code.builtinCode);
}

// ---- Whole-model checks ----------------------------------------------------------------------------------
