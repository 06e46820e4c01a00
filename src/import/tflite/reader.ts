// A bounds-checked decoder of TFLite flatbuffers into plain typed objects; the enums and field ids live in
// src/tflite/schema.ts, shared with the writer (src/export/tflite).
import * as flatbuffers from 'flatbuffers';
import { fail } from '../../errors.js';

export {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptionsType,
  FIELD,
  Padding,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorType,
  builtinOperatorName,
  tensorTypeName,
  vtableOffset,
} from '../../tflite/schema.js';
import {
  ActivationFunctionType,
  BuiltinOptionsType,
  FIELD,
  Padding,
  TFLITE_FILE_IDENTIFIER,
  TensorType,
  vtableOffset,
} from '../../tflite/schema.js';

// ---- Decoded objects -------------------------------------------------------------------------------------

export interface TfliteModel {
  readonly version: number;
  readonly operatorCodes: readonly TfliteOperatorCode[];
  readonly subgraphs: readonly TfliteSubGraph[];
  readonly description: string;
  readonly buffers: readonly TfliteBuffer[];
  readonly metadata: readonly TfliteMetadata[];
}

export interface TfliteOperatorCode {
  /** max(deprecated_builtin_code, builtin_code): old writers fill only the first, new ones both. */
  readonly builtinCode: number;
  readonly customCode: string;
  readonly version: number;
}

export interface TfliteSubGraph {
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
  readonly name: string;
}

export interface TfliteQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

export interface TfliteTensor {
  /** NHWC for rank-4 activations; unknown dims are stored as 1 here and as −1 in shapeSignature. */
  readonly shape: readonly number[];
  readonly shapeSignature?: readonly number[];
  readonly type: number;
  readonly buffer: number;
  readonly name: string;
  readonly quantization?: TfliteQuantization;
}

export interface TfliteBuffer {
  /** The bytes (a view into the file), from Buffer.data or, in models over 2 GB, from Buffer.offset/size. */
  readonly data: Uint8Array;
}

export interface TfliteMetadata {
  readonly name: string;
  readonly buffer: number;
}

export interface Conv2DOptions {
  readonly type: 'Conv2DOptions';
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly fusedActivation: number;
  readonly dilationW: number;
  readonly dilationH: number;
}

export interface DepthwiseConv2DOptions {
  readonly type: 'DepthwiseConv2DOptions';
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly depthMultiplier: number;
  readonly fusedActivation: number;
  readonly dilationW: number;
  readonly dilationH: number;
}

export interface Pool2DOptions {
  readonly type: 'Pool2DOptions';
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly filterWidth: number;
  readonly filterHeight: number;
  readonly fusedActivation: number;
}

export interface FullyConnectedOptions {
  readonly type: 'FullyConnectedOptions';
  readonly fusedActivation: number;
  readonly weightsFormat: number;
  readonly keepNumDims: boolean;
}

export interface SoftmaxOptions {
  readonly type: 'SoftmaxOptions';
  readonly beta: number;
}

export interface ConcatenationOptions {
  readonly type: 'ConcatenationOptions';
  readonly axis: number;
  readonly fusedActivation: number;
}

/** AddOptions, SubOptions and MulOptions: flexq reads only the fused activation. */
export interface ArithmeticOptions {
  readonly type: 'AddOptions' | 'SubOptions' | 'MulOptions';
  readonly fusedActivation: number;
}

export interface ReshapeOptions {
  readonly type: 'ReshapeOptions';
  readonly newShape?: readonly number[];
}

export interface ReducerOptions {
  readonly type: 'ReducerOptions';
  readonly keepDims: boolean;
}

export interface ResizeBilinearOptions {
  readonly type: 'ResizeBilinearOptions';
  readonly alignCorners: boolean;
  readonly halfPixelCenters: boolean;
}

/** Options tables flexq does not read (absent, empty, or of an op flexq rejects), kept by their type tag. */
export interface OtherOptions {
  readonly type: 'other';
  readonly typeTag: number;
}

export type BuiltinOptions =
  | Conv2DOptions
  | DepthwiseConv2DOptions
  | Pool2DOptions
  | FullyConnectedOptions
  | SoftmaxOptions
  | ConcatenationOptions
  | ArithmeticOptions
  | ReshapeOptions
  | ReducerOptions
  | ResizeBilinearOptions
  | OtherOptions;

export interface TfliteOperator {
  readonly opcodeIndex: number;
  /** Tensor indices; −1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options: BuiltinOptions;
  /** A custom operator's options blob (its layout is the custom op's own), empty when absent. */
  readonly customOptions: Uint8Array;
}

// ---- Bounds-checked reading ------------------------------------------------------------------------------

/** Where a vector's elements lie in the file. */
interface VectorSpan {
  readonly start: number;
  readonly length: number;
}

/**
 * Reads tables, vectors and strings through flatbuffers' ByteBuffer after checking every offset against
 * the file size: ByteBuffer itself reads past the end as zeros, so a truncated file would decode to garbage.
 */
class CheckedReader {
  private readonly bb: flatbuffers.ByteBuffer;

  constructor(readonly bytes: Uint8Array, readonly source: string) {
    this.bb = new flatbuffers.ByteBuffer(bytes);
  }

  corrupt(what: string, detail: string): never {
    return fail(
      'MODEL_PARSE',
      `${this.source}: the TFLite file is truncated or corrupt: ${what} ${detail} (the file has ${this.bytes.length} bytes); ` +
        're-export the model or copy the complete file again',
    );
  }

  need(pos: number, size: number, what: string): void {
    if (!Number.isSafeInteger(pos) || pos < 0 || size < 0 || pos + size > this.bytes.length)
      this.corrupt(what, `lies at bytes ${pos}..${pos + size}, outside the file`);
  }

  /** The root table, whose position the file's first four bytes hold. */
  rootTable(): number {
    this.need(0, 4, 'the root offset');
    return this.table(this.bb.readUint32(0), 'the root Model table');
  }

  /** Validates the table at `pos` (its vtable and extent) and returns `pos`. */
  table(pos: number, what: string): number {
    this.need(pos, 4, what);
    const vtable = pos - this.bb.readInt32(pos);
    this.need(vtable, 4, `${what} (its vtable)`);
    const vtableSize = this.bb.readUint16(vtable);
    const tableSize = this.bb.readUint16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.corrupt(what, `has a vtable of ${vtableSize} bytes`);
    this.need(vtable, vtableSize, `${what} (its vtable)`);
    this.need(pos, tableSize, what);
    return pos;
  }

  /** Absolute position of field `id` of a validated table, or undefined when the field is absent. */
  private field(table: number, id: number, size: number, what: string): number | undefined {
    const off = this.bb.__offset(table, vtableOffset(id));
    if (off === 0) return undefined;
    const tableSize = this.bb.readUint16(table - this.bb.readInt32(table) + 2);
    if (off + size > tableSize) this.corrupt(what, `has field ${id} at offset ${off} beyond its ${tableSize} bytes`);
    return table + off;
  }

  int8(table: number, id: number, fallback: number, what: string): number {
    const at = this.field(table, id, 1, what);
    return at === undefined ? fallback : this.bb.readInt8(at);
  }

  bool(table: number, id: number, what: string): boolean {
    const at = this.field(table, id, 1, what);
    return at !== undefined && this.bb.readUint8(at) !== 0;
  }

  uint8(table: number, id: number, fallback: number, what: string): number {
    const at = this.field(table, id, 1, what);
    return at === undefined ? fallback : this.bb.readUint8(at);
  }

  int32(table: number, id: number, fallback: number, what: string): number {
    const at = this.field(table, id, 4, what);
    return at === undefined ? fallback : this.bb.readInt32(at);
  }

  uint32(table: number, id: number, fallback: number, what: string): number {
    const at = this.field(table, id, 4, what);
    return at === undefined ? fallback : this.bb.readUint32(at);
  }

  float32(table: number, id: number, fallback: number, what: string): number {
    const at = this.field(table, id, 4, what);
    return at === undefined ? fallback : this.bb.readFloat32(at);
  }

  uint64(table: number, id: number, what: string): number {
    const at = this.field(table, id, 8, what);
    return at === undefined ? 0 : Number(this.bb.readUint64(at));
  }

  /** The sub-table that field `id` points to, validated, or undefined when absent. */
  subTable(table: number, id: number, what: string): number | undefined {
    const at = this.field(table, id, 4, what);
    return at === undefined ? undefined : this.table(this.bb.__indirect(at), what);
  }

  private vector(table: number, id: number, elementSize: number, what: string): VectorSpan | undefined {
    const at = this.field(table, id, 4, what);
    if (at === undefined) return undefined;
    const header = this.bb.__indirect(at);
    this.need(header, 4, what);
    const length = this.bb.readUint32(header);
    this.need(header + 4, length * elementSize, what);
    return { start: header + 4, length };
  }

  string(table: number, id: number, what: string): string {
    const span = this.vector(table, id, 1, what);
    return span === undefined ? '' : new TextDecoder().decode(this.bytes.subarray(span.start, span.start + span.length));
  }

  bytesVector(table: number, id: number, what: string): Uint8Array | undefined {
    const span = this.vector(table, id, 1, what);
    return span && this.bytes.subarray(span.start, span.start + span.length);
  }

  int32Vector(table: number, id: number, what: string): number[] | undefined {
    const span = this.vector(table, id, 4, what);
    return span && Array.from({ length: span.length }, (_, i) => this.bb.readInt32(span.start + 4 * i));
  }

  float32Vector(table: number, id: number, what: string): number[] | undefined {
    const span = this.vector(table, id, 4, what);
    return span && Array.from({ length: span.length }, (_, i) => this.bb.readFloat32(span.start + 4 * i));
  }

  /** int64 vector as numbers: zero points and the like never exceed 2^53. */
  int64Vector(table: number, id: number, what: string): number[] | undefined {
    const span = this.vector(table, id, 8, what);
    return span && Array.from({ length: span.length }, (_, i) => Number(this.bb.readInt64(span.start + 8 * i)));
  }

  /** Validated positions of the tables in a vector of tables. */
  tableVector(table: number, id: number, what: string): number[] {
    const span = this.vector(table, id, 4, what);
    if (!span) return [];
    return Array.from({ length: span.length }, (_, i) => this.table(this.bb.__indirect(span.start + 4 * i), `${what} ${i}`));
  }
}

// ---- Table decoders --------------------------------------------------------------------------------------

function readOperatorCode(r: CheckedReader, t: number, what: string): TfliteOperatorCode {
  const f = FIELD.OperatorCode;
  const deprecated = r.int8(t, f.deprecated_builtin_code, 0, what);
  const extended = r.int32(t, f.builtin_code, 0, what);
  return { builtinCode: Math.max(deprecated, extended), customCode: r.string(t, f.custom_code, what), version: r.int32(t, f.version, 1, what) };
}

function readQuantization(r: CheckedReader, t: number, what: string): TfliteQuantization | undefined {
  const f = FIELD.QuantizationParameters;
  const scale = r.float32Vector(t, f.scale, what) ?? [];
  if (scale.length === 0) return undefined;
  return {
    scale,
    zeroPoint: r.int64Vector(t, f.zero_point, what) ?? scale.map(() => 0),
    quantizedDimension: r.int32(t, f.quantized_dimension, 0, what),
  };
}

function readTensor(r: CheckedReader, t: number, what: string): TfliteTensor {
  const f = FIELD.Tensor;
  const q = r.subTable(t, f.quantization, `${what} quantization`);
  return {
    shape: r.int32Vector(t, f.shape, what) ?? [],
    shapeSignature: r.int32Vector(t, f.shape_signature, what),
    type: r.int8(t, f.type, TensorType.FLOAT32, what),
    buffer: r.uint32(t, f.buffer, 0, what),
    name: r.string(t, f.name, what),
    quantization: q === undefined ? undefined : readQuantization(r, q, `${what} quantization`),
  };
}

function readConv2DOptions(r: CheckedReader, t: number, what: string): Conv2DOptions {
  const f = FIELD.Conv2DOptions;
  return {
    type: 'Conv2DOptions',
    padding: r.int8(t, f.padding, Padding.SAME, what),
    strideW: r.int32(t, f.stride_w, 0, what),
    strideH: r.int32(t, f.stride_h, 0, what),
    fusedActivation: r.int8(t, f.fused_activation_function, ActivationFunctionType.NONE, what),
    dilationW: r.int32(t, f.dilation_w_factor, 1, what),
    dilationH: r.int32(t, f.dilation_h_factor, 1, what),
  };
}

function readDepthwiseConv2DOptions(r: CheckedReader, t: number, what: string): DepthwiseConv2DOptions {
  const f = FIELD.DepthwiseConv2DOptions;
  return {
    type: 'DepthwiseConv2DOptions',
    padding: r.int8(t, f.padding, Padding.SAME, what),
    strideW: r.int32(t, f.stride_w, 0, what),
    strideH: r.int32(t, f.stride_h, 0, what),
    depthMultiplier: r.int32(t, f.depth_multiplier, 0, what),
    fusedActivation: r.int8(t, f.fused_activation_function, ActivationFunctionType.NONE, what),
    dilationW: r.int32(t, f.dilation_w_factor, 1, what),
    dilationH: r.int32(t, f.dilation_h_factor, 1, what),
  };
}

function readPool2DOptions(r: CheckedReader, t: number, what: string): Pool2DOptions {
  const f = FIELD.Pool2DOptions;
  return {
    type: 'Pool2DOptions',
    padding: r.int8(t, f.padding, Padding.SAME, what),
    strideW: r.int32(t, f.stride_w, 0, what),
    strideH: r.int32(t, f.stride_h, 0, what),
    filterWidth: r.int32(t, f.filter_width, 0, what),
    filterHeight: r.int32(t, f.filter_height, 0, what),
    fusedActivation: r.int8(t, f.fused_activation_function, ActivationFunctionType.NONE, what),
  };
}

function readFullyConnectedOptions(r: CheckedReader, t: number, what: string): FullyConnectedOptions {
  const f = FIELD.FullyConnectedOptions;
  return {
    type: 'FullyConnectedOptions',
    fusedActivation: r.int8(t, f.fused_activation_function, ActivationFunctionType.NONE, what),
    weightsFormat: r.int8(t, f.weights_format, 0, what),
    keepNumDims: r.bool(t, f.keep_num_dims, what),
  };
}

function readArithmeticOptions(r: CheckedReader, t: number, type: ArithmeticOptions['type'], what: string): ArithmeticOptions {
  // fused_activation_function is field 0 of AddOptions, SubOptions and MulOptions alike.
  return { type, fusedActivation: r.int8(t, FIELD.AddOptions.fused_activation_function, ActivationFunctionType.NONE, what) };
}

/** Decodes the options table by its union type tag; tables flexq does not read keep only the tag. */
function readBuiltinOptions(r: CheckedReader, typeTag: number, t: number | undefined, what: string): BuiltinOptions {
  const T = BuiltinOptionsType;
  if (t === undefined) return { type: 'other', typeTag };
  switch (typeTag) {
    case T.Conv2DOptions:
      return readConv2DOptions(r, t, what);
    case T.DepthwiseConv2DOptions:
      return readDepthwiseConv2DOptions(r, t, what);
    case T.Pool2DOptions:
      return readPool2DOptions(r, t, what);
    case T.FullyConnectedOptions:
      return readFullyConnectedOptions(r, t, what);
    case T.SoftmaxOptions:
      return { type: 'SoftmaxOptions', beta: r.float32(t, FIELD.SoftmaxOptions.beta, 0, what) };
    case T.ConcatenationOptions:
      return {
        type: 'ConcatenationOptions',
        axis: r.int32(t, FIELD.ConcatenationOptions.axis, 0, what),
        fusedActivation: r.int8(t, FIELD.ConcatenationOptions.fused_activation_function, ActivationFunctionType.NONE, what),
      };
    case T.AddOptions:
      return readArithmeticOptions(r, t, 'AddOptions', what);
    case T.SubOptions:
      return readArithmeticOptions(r, t, 'SubOptions', what);
    case T.MulOptions:
      return readArithmeticOptions(r, t, 'MulOptions', what);
    case T.ReshapeOptions:
      return { type: 'ReshapeOptions', newShape: r.int32Vector(t, FIELD.ReshapeOptions.new_shape, what) };
    case T.ReducerOptions:
      return { type: 'ReducerOptions', keepDims: r.bool(t, FIELD.ReducerOptions.keep_dims, what) };
    case T.ResizeBilinearOptions:
      return {
        type: 'ResizeBilinearOptions',
        alignCorners: r.bool(t, FIELD.ResizeBilinearOptions.align_corners, what),
        halfPixelCenters: r.bool(t, FIELD.ResizeBilinearOptions.half_pixel_centers, what),
      };
    default:
      return { type: 'other', typeTag };
  }
}

function readOperator(r: CheckedReader, t: number, what: string): TfliteOperator {
  const f = FIELD.Operator;
  const typeTag = r.uint8(t, f.builtin_options_type, BuiltinOptionsType.NONE, what);
  return {
    opcodeIndex: r.uint32(t, f.opcode_index, 0, what),
    inputs: r.int32Vector(t, f.inputs, what) ?? [],
    outputs: r.int32Vector(t, f.outputs, what) ?? [],
    options: readBuiltinOptions(r, typeTag, r.subTable(t, f.builtin_options, `${what} options`), `${what} options`),
    customOptions: r.bytesVector(t, f.custom_options, `${what} custom options`) ?? new Uint8Array(0),
  };
}

function readSubGraph(r: CheckedReader, t: number, what: string): TfliteSubGraph {
  const f = FIELD.SubGraph;
  return {
    tensors: r.tableVector(t, f.tensors, `${what} tensor`).map((p, i) => readTensor(r, p, `${what} tensor ${i}`)),
    inputs: r.int32Vector(t, f.inputs, what) ?? [],
    outputs: r.int32Vector(t, f.outputs, what) ?? [],
    operators: r.tableVector(t, f.operators, `${what} operator`).map((p, i) => readOperator(r, p, `${what} operator ${i}`)),
    name: r.string(t, f.name, what),
  };
}

/** Buffer data lives inline, or (models over 2 GB) at offset/size from the start of the file; offset ≤ 1 means none. */
function readBuffer(r: CheckedReader, t: number, what: string): TfliteBuffer {
  const f = FIELD.Buffer;
  const inline = r.bytesVector(t, f.data, what);
  if (inline && inline.length > 0) return { data: inline };
  const offset = r.uint64(t, f.offset, what);
  if (offset <= 1) return { data: new Uint8Array(0) };
  const size = r.uint64(t, f.size, what);
  r.need(offset, size, `${what} data`);
  return { data: r.bytes.subarray(offset, offset + size) };
}

/** Checks what a TFLite file starts with: a root offset, then the identifier "TFL3". */
function checkIdentifier(bytes: Uint8Array, source: string): void {
  const identifier = bytes.subarray(4, 8);
  if (bytes.length >= 8 && String.fromCharCode(...identifier) === TFLITE_FILE_IDENTIFIER) return;
  const hex = Array.from(identifier, (x) => x.toString(16).padStart(2, '0')).join(' ');
  const found = bytes.length < 8 ? `found a file of only ${bytes.length} bytes` : `found bytes ${hex}`;
  fail(
    'MODEL_PARSE',
    `${source}: not a TFLite model: expected the flatbuffer file identifier "${TFLITE_FILE_IDENTIFIER}" at bytes 4..7, ${found}; ` +
      'pass a .tflite file written by the TFLite converter (ONNX models go through the ONNX importer)',
  );
}

/** Decodes a whole .tflite file into plain objects, checking every offset; `source` names the file in errors. */
export function readTfliteModel(bytes: Uint8Array, source: string): TfliteModel {
  checkIdentifier(bytes, source);
  const r = new CheckedReader(bytes, source);
  const root = r.rootTable();
  const f = FIELD.Model;
  return {
    version: r.uint32(root, f.version, 0, 'Model'),
    operatorCodes: r.tableVector(root, f.operator_codes, 'operator code').map((p, i) => readOperatorCode(r, p, `operator code ${i}`)),
    subgraphs: r.tableVector(root, f.subgraphs, 'subgraph').map((p, i) => readSubGraph(r, p, `subgraph ${i}`)),
    description: r.string(root, f.description, 'Model description'),
    buffers: r.tableVector(root, f.buffers, 'buffer').map((p, i) => readBuffer(r, p, `buffer ${i}`)),
    metadata: r.tableVector(root, f.metadata, 'metadata').map((p, i) => ({
      name: r.string(p, FIELD.Metadata.name, `metadata ${i}`),
      buffer: r.uint32(p, FIELD.Metadata.buffer, 0, `metadata ${i}`),
    })),
  };
}
