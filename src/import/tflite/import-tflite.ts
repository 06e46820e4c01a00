// Reads a float TFLite model (NHWC) into flexq's graph IR (NCHW), the same IR the ONNX importer produces.
import { fail } from '../../errors.js';
import { buildGraph } from '../../ir/build.js';
import { toNumbers, type DType } from '../../ir/dtype.js';
import type { Attrs, Graph, Node, Value } from '../../ir/graph.js';
import { checkFinite, checkShape } from '../../ir/limits.js';
import { formatShape, sizeOf, type Dim } from '../../ir/shape.js';
import type { ConstTensor } from '../../ops/contract.js';
import { transposeConst } from '../../ops/transpose.js';
import { windowProblem } from '../../ops/window.js';
import type { ImportOptions } from '../options.js';
import {
  ActivationFunctionType,
  BuiltinOperator,
  Padding,
  TensorType,
  builtinOperatorName,
  readTfliteModel,
  tensorTypeName,
  type BuiltinOptions,
  type Conv2DOptions,
  type DepthwiseConv2DOptions,
  type TfliteModel,
  type TfliteOperator,
  type TfliteQuantization,
  type TfliteSubGraph,
  type TfliteTensor,
} from './schema.js';

/** Output axis i takes input axis NHWC_TO_NCHW[i]: NHWC → NCHW for activations, OHWI → OIHW for conv weights. */
const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
/** The inverse permutation; NCHW_TO_NHWC[a] is also where NHWC axis a sits in NCHW. */
const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
/** Depthwise filter [1, kh, kw, C·M] → [C·M, 1, kh, kw]. */
const DEPTHWISE_TO_OIHW = [3, 0, 1, 2] as const;

/** One TFLite operator being converted: its position and code name it in error messages. */
interface OpSite {
  readonly index: number;
  readonly op: TfliteOperator;
  readonly code: number;
}

type OptionsOf<T extends BuiltinOptions['type']> = Extract<BuiltinOptions, { type: T }>;

/** Collects the IR nodes and constants of one subgraph while converting it operator by operator. */
class TfliteGraphBuilder {
  readonly nodes: Node[] = [];
  readonly constants: Value[] = [];
  /** The IR value name of each TFLite tensor: its TFLite name, made unique. */
  readonly valueNames: readonly string[];
  private readonly usedNames = new Set<string>();
  /** The next suffix to try per base name, so many tensors of one name stay linear. */
  private readonly nextSuffix = new Map<string, number>();
  private readonly decoded = new Map<number, ConstTensor | undefined>();
  private readonly laidOut = new Map<string, string>();
  private readonly namedConstants = new Set<number>();

  constructor(readonly source: string, readonly model: TfliteModel, readonly subgraph: TfliteSubGraph) {
    this.valueNames = subgraph.tensors.map((t, i) => this.freshName(t.name || `tensor_${i}`));
  }

  freshName(base: string): string {
    let name = base;
    let k = this.nextSuffix.get(base) ?? 1;
    while (this.usedNames.has(name)) name = `${base}_${k++}`;
    this.nextSuffix.set(base, k);
    this.usedNames.add(name);
    return name;
  }

  tensor(i: number): TfliteTensor {
    return this.subgraph.tensors[i];
  }

  rank(i: number): number {
    return this.tensor(i).shape.length;
  }

  where(site: OpSite): string {
    return `${this.source}: operator ${site.index} (${builtinOperatorName(site.code)}) writing '${this.output(site)}'`;
  }

  /** Tensor index of input `k`; fails when the operator lacks it. */
  input(site: OpSite, k: number, role: string): number {
    const i = site.op.inputs[k];
    if (i === undefined || i < 0) fail('MODEL_INVALID', `${this.where(site)}: input ${k} (${role}) is missing; the file is malformed: re-export the model`);
    return i;
  }

  optionalInput(site: OpSite, k: number): number | undefined {
    const i = site.op.inputs[k];
    return i === undefined || i < 0 ? undefined : i;
  }

  /** Tensor index of the operator's (first) output; checkIndices made sure there is one. */
  outputIndex(site: OpSite): number {
    return site.op.outputs[0];
  }

  output(site: OpSite): string {
    return this.valueNames[this.outputIndex(site)];
  }

  options<T extends BuiltinOptions['type']>(site: OpSite, type: T): OptionsOf<T> | undefined {
    const o = site.op.options;
    return o.type === type ? (o as OptionsOf<T>) : undefined;
  }

  requiredOptions<T extends BuiltinOptions['type']>(site: OpSite, type: T): OptionsOf<T> {
    return this.options(site, type) ?? fail('MODEL_INVALID', `${this.where(site)}: it has no ${type}; the file is malformed: re-export the model`);
  }

  /** The real values of tensor i in TFLite layout (weights dequantized), or undefined for an activation. */
  constant(i: number): ConstTensor | undefined {
    if (!this.decoded.has(i)) {
      const t = this.tensor(i);
      const data = this.model.buffers[t.buffer].data;
      const value = data.length === 0 ? undefined : decodeConstant(t, data, this.source);
      if (value) checkFinite(this.valueNames[i], value.dtype, value.data, this.source);
      this.decoded.set(i, value);
    }
    return this.decoded.get(i);
  }

  /** Records that tensor `i` is a constant computed at import (a folded DEQUANTIZE). */
  foldConstant(i: number, value: ConstTensor): void {
    this.decoded.set(i, value);
  }

  requireConstant(site: OpSite, i: number, role: string): ConstTensor {
    return (
      this.constant(i) ??
      fail('UNSUPPORTED_ATTR', `${this.where(site)}: its ${role} '${this.valueNames[i]}' is computed at run time; flexq needs it as a constant tensor`)
    );
  }

  floatConstant(site: OpSite, i: number, role: string): ConstTensor {
    const c = this.requireConstant(site, i, role);
    if (c.dtype !== 'float32')
      fail(
        'UNSUPPORTED_ATTR',
        `${this.where(site)}: its ${role} '${this.valueNames[i]}' is ${tensorTypeName(this.tensor(i).type)} without quantization parameters; expected float32 (or int8 with a scale)`,
      );
    return c;
  }

  intValues(site: OpSite, i: number, role: string): number[] {
    const values = toNumbers(this.requireConstant(site, i, role).data);
    const bad = values.findIndex((v) => !Number.isSafeInteger(v));
    if (bad >= 0)
      fail('MODEL_INVALID', `${this.where(site)}: its ${role} '${this.valueNames[i]}' holds ${values[bad]} at index ${bad}; expected integers (INT32 or INT64): re-convert the model`);
    return values;
  }

  /** Name of the IR constant holding tensor i re-laid by `relayout`, made once per tensor and layout. */
  laidOutConstant(i: number, layout: string, relayout: (c: ConstTensor) => ConstTensor, value: ConstTensor): string {
    const key = `${i}/${layout}`;
    const known = this.laidOut.get(key);
    if (known !== undefined) return known;
    // The first layout of a tensor keeps its TFLite name; another layout of the same tensor gets a new one.
    const name = this.namedConstants.has(i) ? this.freshName(`${this.valueNames[i]}_${layout}`) : this.valueNames[i];
    this.namedConstants.add(i);
    this.addConstant(name, relayout(value));
    this.laidOut.set(key, name);
    return name;
  }

  /** Name of the IR constant holding tensor i in its TFLite layout (biases, FC weights, ranks other than 4). */
  plainConstant(i: number, value: ConstTensor): string {
    return this.laidOutConstant(i, 'as-is', (c) => c, value);
  }

  newConstant(base: string, value: ConstTensor): string {
    const name = this.freshName(base);
    this.addConstant(name, value);
    return name;
  }

  private addConstant(name: string, c: ConstTensor): void {
    this.constants.push({ name, dtype: c.dtype, shape: c.shape, data: c.data });
  }

  emit(op: string, inputs: readonly string[], output: string, attrs: Attrs = {}): string {
    this.nodes.push({ name: output, op, inputs, outputs: [output], attrs });
    return output;
  }

  /** Emits `op`, then its fused activation as a separate node (a later pass fuses it); `output` is the last value. */
  emitWithActivation(site: OpSite, op: string, inputs: readonly string[], attrs: Attrs, activation: number, output: string): void {
    if (activation === ActivationFunctionType.NONE) {
      this.emit(op, inputs, output, attrs);
      return;
    }
    const node = ACTIVATION_NODES.get(activation) ?? fail('UNSUPPORTED_ATTR', `${this.where(site)}: fused activation ${activation} is not supported; supported: NONE, RELU, RELU6, RELU_N1_TO_1`);
    const preActivation = this.emit(op, inputs, this.freshName(`${output}_preact`), attrs);
    this.emit(node.op, [preActivation], output, node.attrs);
  }

  /**
   * Tensor i as an input of an op whose other operands have rank `layoutRank`: rank-4 activations are
   * already NCHW; constants, and lower-rank activations that broadcast against rank 4, are re-laid to NCHW.
   */
  operand(i: number, layoutRank: number): string {
    const value = this.constant(i);
    if (value) return layoutRank === 4 ? this.laidOutConstant(i, 'nchw', nchwBroadcastConstant, value) : this.plainConstant(i, value);
    const shape = this.tensor(i).shape;
    if (layoutRank === 4 && shape.length < 4) {
      const nhwc = [...Array<number>(4 - shape.length).fill(1), ...shape];
      return this.reshape(this.valueNames[i], shape.length, nhwc, this.freshName(`${this.valueNames[i]}_nchw`));
    }
    return this.valueNames[i];
  }

  /** A value in TFLite's element order: rank-4 values are transposed back to NHWC. */
  private toNhwc(name: string, rank: number): string {
    return rank === 4 ? this.emit('Transpose', [name], this.freshName(`${name}_nhwc`), { perm: NCHW_TO_NHWC }) : name;
  }

  /** TFLite's reshape (row-major over NHWC) of an IR value of rank `rank` to `target`, written to `output`. */
  reshape(name: string, rank: number, target: readonly number[], output: string): string {
    const shape = this.newConstant(`${output}_shape`, { dtype: 'int64', shape: [target.length], data: BigInt64Array.from(target, BigInt) });
    const flat = this.toNhwc(name, rank);
    if (target.length !== 4) return this.emit('Reshape', [flat, shape], output);
    const nhwc = this.emit('Reshape', [flat, shape], this.freshName(`${output}_nhwc`));
    return this.emit('Transpose', [nhwc], output, { perm: NHWC_TO_NCHW });
  }
}

// ---- Numeric helpers -------------------------------------------------------------------------------------

/** Byte width of each tensor type flexq reads constants of. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.INT64]: 8,
  [TensorType.INT8]: 1,
  [TensorType.UINT8]: 1,
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** real = scale·(q − zero_point), per tensor or per channel along quantized_dimension. */
function dequantize(q: Int8Array | Uint8Array, shape: readonly number[], quant: TfliteQuantization, what: string): Float32Array {
  const { scale, zeroPoint, quantizedDimension: axis } = quant;
  const channels = scale.length;
  if (channels > 1 && shape[axis] !== channels)
    fail('MODEL_INVALID', `${what} has ${channels} scales but dimension ${axis} of its shape ${formatShape(shape)} is ${shape[axis]}`);
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = scale[c] * (q[i] - (zeroPoint[zeroPoint.length === 1 ? 0 : c] ?? 0));
  }
  return out;
}

/**
 * Decodes a constant tensor's buffer into real values in TFLite layout: float16 is widened to float32 and
 * int8/uint8 weights with a scale (dynamic-range models) are dequantized. Assumes a little-endian host, as TFLite does.
 */
function decodeConstant(t: TfliteTensor, bytes: Uint8Array, source: string): ConstTensor {
  const shape = t.shape;
  const what = `${source}: constant tensor '${t.name}'`;
  const width = ELEMENT_BYTES[t.type];
  if (width === undefined) fail('UNSUPPORTED_ATTR', `${what} has type ${tensorTypeName(t.type)}; supported: FLOAT32, FLOAT16, INT32, INT64, INT8, UINT8`);
  if (bytes.length !== sizeOf(shape) * width)
    fail('MODEL_INVALID', `${what} has shape ${formatShape(shape)} of ${tensorTypeName(t.type)} (${sizeOf(shape) * width} bytes) but its buffer holds ${bytes.length} bytes`);
  const aligned = new Uint8Array(bytes).buffer; // a copy starts at offset 0, so typed views are aligned (Buffer.slice would not copy)
  const float = (data: Float32Array): ConstTensor => ({ dtype: 'float32', shape, data });
  const raw = (dtype: DType, data: ConstTensor['data']): ConstTensor => ({ dtype, shape, data });
  switch (t.type) {
    case TensorType.FLOAT32:
      return float(new Float32Array(aligned));
    case TensorType.FLOAT16:
      return float(Float32Array.from(new Uint16Array(aligned), halfToFloat));
    case TensorType.INT32:
      return raw('int32', new Int32Array(aligned));
    case TensorType.INT64:
      return raw('int64', new BigInt64Array(aligned));
    case TensorType.INT8:
      return t.quantization ? float(dequantize(new Int8Array(aligned), shape, t.quantization, what)) : raw('int8', new Int8Array(aligned));
    default: // UINT8, the last type ELEMENT_BYTES admits
      return t.quantization ? float(dequantize(new Uint8Array(aligned), shape, t.quantization, what)) : raw('uint8', new Uint8Array(aligned));
  }
}

/** Re-lays a constant that broadcasts against a rank-4 NHWC tensor so it broadcasts alike against NCHW ([C] → [C,1,1]). */
function nchwBroadcastConstant(c: ConstTensor): ConstTensor {
  const padded = [...Array<number>(4 - c.shape.length).fill(1), ...c.shape];
  const nchw = transposeConst({ ...c, shape: padded }, NHWC_TO_NCHW);
  let shape = nchw.shape;
  while (shape.length > c.shape.length && shape[0] === 1) shape = shape.slice(1);
  return { ...nchw, shape };
}

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

interface ActivationNode {
  readonly op: string;
  readonly attrs: Attrs;
}

/** The IR node of each TFLite activation, fused (an option) or standalone (RELU, RELU6, RELU_N1_TO_1 ops). */
const ACTIVATION_NODES: ReadonlyMap<number, ActivationNode> = new Map<number, ActivationNode>([
  [ActivationFunctionType.RELU, { op: 'Relu', attrs: {} }],
  [ActivationFunctionType.RELU6, { op: 'Clip', attrs: { min: 0, max: 6 } }],
  [ActivationFunctionType.RELU_N1_TO_1, { op: 'Clip', attrs: { min: -1, max: 1 } }],
]);

// ---- Operator converters ---------------------------------------------------------------------------------

type OpConverter = (b: TfliteGraphBuilder, site: OpSite) => void;

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

/** DEQUANTIZE of a constant (float16 or int8 weights) is folded: its output becomes a float32 constant. */
function convertDequantize(b: TfliteGraphBuilder, site: OpSite): void {
  b.foldConstant(b.outputIndex(site), b.floatConstant(site, b.input(site, 0, 'input'), 'input'));
}

/** The one table from TFLite builtin operator to its conversion. */
const CONVERTERS: ReadonlyMap<number, OpConverter> = new Map<number, OpConverter>([
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
  [BuiltinOperator.SOFTMAX, convertSoftmax],
  [BuiltinOperator.SUB, (b, s) => convertBinary(b, s, 'Sub', 'SubOptions')],
]);

// ---- Whole-model checks ----------------------------------------------------------------------------------

function corruptIndex(source: string, what: string): never {
  return fail('MODEL_INVALID', `${source}: ${what}; the file is corrupt: re-export the model`);
}

/** Checks every index the subgraph holds (opcode, tensor, buffer) so conversion can follow them blind. */
function checkIndices(source: string, model: TfliteModel, sg: TfliteSubGraph): void {
  const tensorCount = sg.tensors.length;
  sg.tensors.forEach((t, i) => {
    if (!Number.isInteger(t.buffer) || t.buffer < 0 || t.buffer >= model.buffers.length)
      corruptIndex(source, `tensor ${i} '${t.name}' uses buffer ${t.buffer}, but the model has ${model.buffers.length}`);
    // Every stated shape is checked before any buffer is decoded or any IR shape is built from it.
    checkShape(t.shape, `${source}: tensor ${i} '${t.name}'`);
  });
  if (sg.inputs.length === 0) fail('MODEL_INVALID', `${source}: the subgraph has no inputs, so there is nothing to feed it or calibrate on; re-convert the model with its input`);
  if (sg.outputs.length === 0) fail('MODEL_INVALID', `${source}: the subgraph has no outputs, so there is nothing to compute or quantize; re-convert the model with its outputs`);
  const checkTensor = (i: number, what: string, optional: boolean): void => {
    if (i >= tensorCount || i < (optional ? -1 : 0)) corruptIndex(source, `${what} refers to tensor ${i}, but the subgraph has ${tensorCount}`);
  };
  sg.inputs.forEach((i) => checkTensor(i, 'a graph input', false));
  sg.outputs.forEach((i) => checkTensor(i, 'a graph output', false));
  sg.operators.forEach((op, k) => {
    if (op.opcodeIndex >= model.operatorCodes.length)
      corruptIndex(source, `operator ${k} uses operator code ${op.opcodeIndex}, but the model has ${model.operatorCodes.length}`);
    if (op.outputs.length === 0) corruptIndex(source, `operator ${k} has no output`);
    op.inputs.forEach((i) => checkTensor(i, `operator ${k}`, true));
    op.outputs.forEach((i) => checkTensor(i, `operator ${k}`, false));
  });
}

function operatorLabel(model: TfliteModel, op: TfliteOperator): string {
  const code = model.operatorCodes[op.opcodeIndex];
  return code.builtinCode === BuiltinOperator.CUSTOM ? `CUSTOM '${code.customCode}'` : builtinOperatorName(code.builtinCode);
}

/** Lists every operator flexq cannot convert, all at once. */
function checkSupported(source: string, model: TfliteModel, sg: TfliteSubGraph): void {
  const unsupported = sg.operators.flatMap((op, k) =>
    CONVERTERS.has(model.operatorCodes[op.opcodeIndex].builtinCode)
      ? []
      : [`#${k} ${operatorLabel(model, op)} (output '${sg.tensors[op.outputs[0]].name}')`],
  );
  if (unsupported.length === 0) return;
  const supported = [...CONVERTERS.keys()].map(builtinOperatorName).sort().join(', ');
  const integerHint = unsupported.some((u) => u.includes(' QUANTIZE '))
    ? ' QUANTIZE marks an integer-quantized model: give flexq the float model, it quantizes it itself.'
    : '';
  fail('UNSUPPORTED_OP', `${source}: ${unsupported.length} operator(s) are not supported by flexq's TFLite importer: ${unsupported.join(', ')}. Supported: ${supported}.${integerHint}`);
}

/** Graph inputs and operator outputs must be float: an int8-activation model is already quantized. */
function checkFloatActivations(source: string, sg: TfliteSubGraph): void {
  const activations = [...sg.inputs, ...sg.operators.flatMap((op) => op.outputs)];
  const integer = activations.find((i) => sg.tensors[i].type !== TensorType.FLOAT32);
  if (integer === undefined) return;
  const t = sg.tensors[integer];
  fail(
    'UNSUPPORTED_ATTR',
    `${source}: activation tensor '${t.name}' is ${tensorTypeName(t.type)}, expected FLOAT32: this is an integer-quantized model, ` +
      'and flexq imports float models (it quantizes them itself): pass the float .tflite or .onnx model',
  );
}

// ---- Graph inputs ----------------------------------------------------------------------------------------

/**
 * The IR shape of a graph input: NCHW for rank 4. TFLite stores a usable size (1) for a dynamic batch,
 * which flexq keeps unless `options.inputShape` (NCHW) sets it; the other dims are fixed by the converter.
 */
function graphInputValue(b: TfliteGraphBuilder, i: number, options: ImportOptions): Value {
  const t = b.tensor(i);
  const name = b.valueNames[i];
  const signature = t.shapeSignature ?? t.shape;
  if (signature.some((d, k) => d < 0 && k > 0))
    fail(
      'UNSUPPORTED_ATTR',
      `${b.source}: input '${name}' has shape ${formatShape(signature)}: only the batch dimension may be dynamic in a TFLite model; ` +
        're-convert the model with a fixed input size',
    );
  const toIr = (dims: readonly number[]): number[] => (dims.length === 4 ? NHWC_TO_NCHW.map((a) => dims[a]) : [...dims]);
  const fixed = toIr(t.shape);
  const requested = options.inputShape;
  if (!requested) return { name, dtype: 'float32', shape: fixed };
  if (b.subgraph.inputs.length !== 1)
    fail('BAD_ARGUMENT', `${b.source}: --input-shape needs a model with one input; this one has ${b.subgraph.inputs.length}`);
  if (requested.length !== fixed.length)
    fail('BAD_ARGUMENT', `${b.source}: --input-shape has ${requested.length} dims but input '${name}' is ${formatShape(fixed)} (NCHW)`);
  const batchDynamic = signature[0] < 0;
  const shape: Dim[] = fixed.map((d, k) => {
    if (k === 0 && batchDynamic) return requested[k];
    if (requested[k] !== d)
      fail('BAD_ARGUMENT', `${b.source}: --input-shape gives ${requested[k]} for dim ${k} of input '${name}' ${formatShape(fixed)} (NCHW), which the model fixes at ${d}`);
    return d;
  });
  return { name, dtype: 'float32', shape };
}

/** Reads a float TFLite flatbuffer into an NCHW graph; `source` (the file path) names the file in every error. */
export function importTflite(bytes: Uint8Array, source: string, options: ImportOptions = {}): Graph {
  const model = readTfliteModel(bytes, source);
  const sg = model.subgraphs[0] ?? fail('MODEL_INVALID', `${source}: the model has no subgraph; re-export the model`);
  checkIndices(source, model, sg);
  checkSupported(source, model, sg);
  checkFloatActivations(source, sg);
  const b = new TfliteGraphBuilder(source, model, sg);
  const inputs = sg.inputs.map((i) => graphInputValue(b, i, options));
  sg.operators.forEach((op, index) => {
    const code = model.operatorCodes[op.opcodeIndex].builtinCode;
    CONVERTERS.get(code)!(b, { index, op, code });
  });
  return buildGraph({
    name: sg.name || 'main',
    source,
    inputs,
    constants: b.constants,
    nodes: b.nodes,
    outputs: sg.outputs.map((i) => b.valueNames[i]),
  });
}
