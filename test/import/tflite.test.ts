import { readdirSync, readFileSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../calibration/npy.js';
import { FlexqError } from '../../src/errors.js';
import { createFloatExecutor, type FloatExecutor } from '../../src/exec/float-executor.js';
import { tf } from '../../src/exec/tfjs-runtime.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptionsType,
  FIELD,
  Padding,
  TFLITE_SCHEMA_VERSION,
  TensorType,
  readTfliteModel,
} from '../../src/import/tflite/reader.js';
import type { Graph } from '../../src/ir/graph.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { data, model, relativeMaxError } from '../helpers/shared.js';

const { onnx } = pkg;
const RESNET8 = model('resnet8-cifar10/float.tflite');
const DSCNN = model('dscnn-kws/float.tflite');
const HELLO = model('hello-world/float.tflite');

const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const importFile = (path: string): Graph => importTflite(readBytes(path), path);

function opCounts(g: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of g.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
  return counts;
}

function expectFlexqError(run: () => unknown, code: string, ...fragments: string[]): FlexqError {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FlexqError);
  const error = caught as FlexqError;
  expect(error.code, error.message).toBe(code);
  for (const f of fragments) expect(error.message).toContain(f);
  return error;
}

// ---- A small TFLite writer for fixtures made by code ---------------------------------------------------

interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type?: number;
  readonly data?: Uint8Array;
  readonly quantization?: { readonly scale: readonly number[]; readonly zeroPoint: readonly number[]; readonly axis: number };
  readonly signature?: readonly number[];
}

type FieldKind = 'int8' | 'int32' | 'float32' | 'offset';
type Field = readonly [id: number, kind: FieldKind, value: number];

interface OperatorSpec {
  readonly code: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly optionsType?: number;
  /** The options table's fields; vector fields are written by `vectors` first and referenced as offsets. */
  readonly options?: (b: flatbuffers.Builder) => readonly Field[];
  readonly customCode?: string;
}

interface ModelSpec {
  readonly tensors: readonly TensorSpec[];
  readonly operators: readonly OperatorSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

function writeTable(b: flatbuffers.Builder, fields: readonly Field[]): number {
  b.startObject(fields.reduce((n, [id]) => Math.max(n, id + 1), 0));
  for (const [id, kind, value] of fields) {
    if (kind === 'int8') b.addFieldInt8(id, value, null);
    else if (kind === 'int32') b.addFieldInt32(id, value, null);
    else if (kind === 'float32') b.addFieldFloat32(id, value, null);
    else b.addFieldOffset(id, value, 0);
  }
  return b.endObject();
}

function writeVector(b: flatbuffers.Builder, values: readonly number[], kind: 'int32' | 'float32' | 'int64' | 'offset'): number {
  const size = kind === 'int64' ? 8 : 4;
  b.startVector(size, values.length, size);
  for (let i = values.length - 1; i >= 0; i--) {
    if (kind === 'int32') b.addInt32(values[i]);
    else if (kind === 'float32') b.addFloat32(values[i]);
    else if (kind === 'int64') b.addInt64(BigInt(values[i]));
    else b.addOffset(values[i]);
  }
  return b.endVector();
}

function writeBytes(b: flatbuffers.Builder, bytes: Uint8Array): number {
  b.startVector(1, bytes.length, 16); // schema.fbs: Buffer.data (force_align: 16)
  for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i]);
  return b.endVector();
}

function writeTflite(spec: ModelSpec): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const buffers = [writeTable(b, [])];
  const tensors = spec.tensors.map((t) => {
    let buffer = 0;
    if (t.data) {
      buffers.push(writeTable(b, [[FIELD.Buffer.data, 'offset', writeBytes(b, t.data)]]));
      buffer = buffers.length - 1;
    }
    const q = t.quantization;
    const quantization =
      q &&
      writeTable(b, [
        [FIELD.QuantizationParameters.scale, 'offset', writeVector(b, q.scale, 'float32')],
        [FIELD.QuantizationParameters.zero_point, 'offset', writeVector(b, q.zeroPoint, 'int64')],
        [FIELD.QuantizationParameters.quantized_dimension, 'int32', q.axis],
      ]);
    const fields: Field[] = [
      [FIELD.Tensor.shape, 'offset', writeVector(b, t.shape, 'int32')],
      [FIELD.Tensor.type, 'int8', t.type ?? TensorType.FLOAT32],
      [FIELD.Tensor.buffer, 'int32', buffer],
      [FIELD.Tensor.name, 'offset', b.createString(t.name)],
    ];
    if (quantization) fields.push([FIELD.Tensor.quantization, 'offset', quantization]);
    if (t.signature) fields.push([FIELD.Tensor.shape_signature, 'offset', writeVector(b, t.signature, 'int32')]);
    return writeTable(b, fields);
  });
  const codes = [...new Set(spec.operators.map((o) => `${o.code}:${o.customCode ?? ''}`))];
  const operatorCodes = codes.map((key) => {
    const [code, custom] = [Number(key.split(':')[0]), key.slice(key.indexOf(':') + 1)];
    const fields: Field[] = [
      [FIELD.OperatorCode.deprecated_builtin_code, 'int8', Math.min(code, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)],
      [FIELD.OperatorCode.builtin_code, 'int32', code],
    ];
    if (custom) fields.push([FIELD.OperatorCode.custom_code, 'offset', b.createString(custom)]);
    return writeTable(b, fields);
  });
  const operators = spec.operators.map((o) => {
    const fields: Field[] = [
      [FIELD.Operator.opcode_index, 'int32', codes.indexOf(`${o.code}:${o.customCode ?? ''}`)],
      [FIELD.Operator.inputs, 'offset', writeVector(b, o.inputs, 'int32')],
      [FIELD.Operator.outputs, 'offset', writeVector(b, o.outputs, 'int32')],
    ];
    if (o.options && o.optionsType !== undefined) {
      fields.push([FIELD.Operator.builtin_options_type, 'int8', o.optionsType]);
      fields.push([FIELD.Operator.builtin_options, 'offset', writeTable(b, o.options(b))]);
    }
    return writeTable(b, fields);
  });
  const subgraph = writeTable(b, [
    [FIELD.SubGraph.tensors, 'offset', writeVector(b, tensors, 'offset')],
    [FIELD.SubGraph.inputs, 'offset', writeVector(b, spec.inputs, 'int32')],
    [FIELD.SubGraph.outputs, 'offset', writeVector(b, spec.outputs, 'int32')],
    [FIELD.SubGraph.operators, 'offset', writeVector(b, operators, 'offset')],
    [FIELD.SubGraph.name, 'offset', b.createString('main')],
  ]);
  const model = writeTable(b, [
    [FIELD.Model.version, 'int32', TFLITE_SCHEMA_VERSION],
    [FIELD.Model.operator_codes, 'offset', writeVector(b, operatorCodes, 'offset')],
    [FIELD.Model.subgraphs, 'offset', writeVector(b, [subgraph], 'offset')],
    [FIELD.Model.description, 'offset', b.createString('flexq test fixture')],
    [FIELD.Model.buffers, 'offset', writeVector(b, buffers, 'offset')],
  ]);
  b.finish(model, 'TFL3');
  return b.asUint8Array();
}

/** Deterministic values in [−1, 1) (a linear congruential generator), so fixtures are the same on every run. */
function randomValues(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count }, () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 2147483648 - 1;
  });
}

const floatBytes = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer.slice(0));
const int32Bytes = (values: readonly number[]): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);

/** float → IEEE half bits, for values exactly representable in half precision (as the fixtures use). */
function toHalf(x: number): number {
  if (x === 0) return 0;
  const exponent = Math.floor(Math.log2(Math.abs(x)));
  return (x < 0 ? 0x8000 : 0) | ((exponent + 15) << 10) | Math.round((Math.abs(x) / 2 ** exponent - 1) * 1024);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const floatTensor = (name: string, shape: number[], seed: number): TensorSpec => ({ name, shape, data: floatBytes(randomValues(size(shape), seed)) });
const valuesOf = (t: TensorSpec): Float32Array => new Float32Array(t.data!.slice().buffer);

const conv2dOptions = (padding: number, stride: number, activation: number) => (): readonly Field[] => [
  [FIELD.Conv2DOptions.padding, 'int8', padding],
  [FIELD.Conv2DOptions.stride_w, 'int32', stride],
  [FIELD.Conv2DOptions.stride_h, 'int32', stride],
  [FIELD.Conv2DOptions.fused_activation_function, 'int8', activation],
];
const pool2dOptions = (padding: number, filter: number, stride: number) => (): readonly Field[] => [
  [FIELD.Pool2DOptions.padding, 'int8', padding],
  [FIELD.Pool2DOptions.stride_w, 'int32', stride],
  [FIELD.Pool2DOptions.stride_h, 'int32', stride],
  [FIELD.Pool2DOptions.filter_width, 'int32', filter],
  [FIELD.Pool2DOptions.filter_height, 'int32', filter],
];

// ---- Running graphs ------------------------------------------------------------------------------------

const executors: FloatExecutor[] = [];
afterAll(() => executors.forEach((e) => e.dispose()));

async function runGraph(g: Graph, input: Float32Array, outputs?: readonly string[]): Promise<Map<string, { shape: readonly number[]; data: Float32Array }>> {
  const executor = await createFloatExecutor(g);
  executors.push(executor);
  const shape = g.values.get(g.inputs[0])!.shape as number[];
  return executor.run({ [g.inputs[0]]: { shape, data: input } }, outputs);
}

/** A TensorFlow.js tensor in TFLite's layout (NHWC), as the IR lays it out (NCHW for rank 4). */
function toIrLayout(t: tf.Tensor): Float32Array {
  return tf.tidy(() => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t).dataSync() as Float32Array);
}

// ---- Real models ---------------------------------------------------------------------------------------

describe('importTflite on real models', () => {
  it('imports ResNet-8 as an NCHW graph with the ONNX twin’s structure', () => {
    const g = importFile(RESNET8);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.values.get(g.inputs[0])!.shape).toEqual([1, 3, 32, 32]);
    expect(g.outputs).toEqual(['Identity']);
    expect(g.values.get('Identity')!.shape).toEqual([1, 10]);
    expect(opCounts(g)).toEqual({ Conv: 9, Relu: 7, Add: 3, AveragePool: 1, Transpose: 1, Reshape: 1, Gemm: 1, Softmax: 1 });
    for (const v of g.values.values()) expect(v.shape.every((d) => typeof d === 'number')).toBe(true);
  });

  it('imports DS-CNN (dynamic-range INT8 conv weights) with depthwise convs as grouped Conv', () => {
    const g = importFile(DSCNN);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.values.get(g.inputs[0])!.shape).toEqual([1, 1, 49, 10]);
    expect(g.values.get(g.outputs[0])!.shape).toEqual([1, 12]);
    expect(opCounts(g)).toEqual({ Conv: 9, Relu: 9, AveragePool: 1, Transpose: 1, Reshape: 1, Gemm: 1, Softmax: 1 });
    const groups = g.nodes.filter((n) => n.op === 'Conv').map((n) => n.attrs.group);
    expect(groups).toEqual([1, 64, 1, 64, 1, 64, 1, 64, 1]);
    expect(g.nodes[0].attrs.pads).toEqual([4, 1, 5, 1]); // SAME on 49×10 with a 10×4 kernel, stride 2: the odd pixel goes after
  });

  it('imports hello-world (three FULLY_CONNECTED layers), which approximates sin(x)', async () => {
    const g = importFile(HELLO);
    expect(verifyGraph(g)).toEqual([]);
    expect(opCounts(g)).toEqual({ Gemm: 3, Relu: 2 });
    expect(g.values.get(g.inputs[0])!.shape).toEqual([1, 1]);
    expect(g.outputs).toEqual(['StatefulPartitionedCall:0']);
    for (const x of [0.5, 1.5, 3, 5]) {
      const y = (await runGraph(g, Float32Array.of(x))).get(g.outputs[0])!.data[0];
      expect(Math.abs(y - Math.sin(x))).toBeLessThan(0.05);
    }
  });

  it.each([
    ['ResNet-8', RESNET8],
    ['DS-CNN', DSCNN],
  ])('re-lays %s conv weights, biases and windows exactly as in the ONNX twin', (_, path) => {
    const g = importFile(path);
    const twin = onnx.ModelProto.decode(readBytes(path.replace('.tflite', '.onnx'))).graph!;
    const initializer = new Map(twin.initializer!.map((t) => [t.name!, t]));
    const floats = (name: string): Float32Array => {
      const raw = initializer.get(name)!.rawData!;
      return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    };
    const ours = g.nodes.filter((n) => n.op === 'Conv');
    const theirs = twin.node!.filter((n) => n.opType === 'Conv');
    expect(ours.length).toBe(theirs.length);
    ours.forEach((node, k) => {
      const attr = (name: string) => theirs[k].attribute!.find((a) => a.name === name)!;
      expect(node.attrs.pads).toEqual(attr('pads').ints!.map(Number));
      expect(node.attrs.strides).toEqual(attr('strides').ints!.map(Number));
      expect(node.attrs.group).toBe(Number(attr('group').i));
      const weight = g.values.get(node.inputs[1])!;
      expect(weight.shape).toEqual(initializer.get(theirs[k].input![1])!.dims!.map(Number));
      expect(weight.data).toEqual(floats(theirs[k].input![1]));
      expect(g.values.get(node.inputs[2])!.data).toEqual(floats(theirs[k].input![2]));
    });
  });

  it('computes what onnxruntime computes on the ONNX twins, on real inputs', async () => {
    const cifar = data('cifar10/test-200');
    const images = await Promise.all(
      readdirSync(cifar).slice(0, 3).map(async (label) => {
        const file = `${cifar}/${label}/${readdirSync(`${cifar}/${label}`).sort()[0]}`;
        const rgb = await sharp(file).raw().toBuffer();
        return Float32Array.from({ length: 3 * 1024 }, (_, i) => rgb[(i % 1024) * 3 + Math.floor(i / 1024)]); // HWC bytes → CHW floats
      }),
    );
    const features = parseNpy(readBytes(data('kws/features.npy')), 'features.npy').values as Float32Array;
    const keywords = [0, 1, 500].map((row) => features.slice(row * 490, (row + 1) * 490));
    for (const [path, inputs] of [
      [RESNET8, images],
      [DSCNN, keywords],
    ] as const) {
      const g = importFile(path);
      const session = await ort.InferenceSession.create(path.replace('.tflite', '.onnx'));
      const shape = g.values.get(g.inputs[0])!.shape as number[];
      for (const x of inputs) {
        const expected = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[session.outputNames[0]].data as Float32Array;
        const actual = (await runGraph(g, x)).get(g.outputs[0])!.data;
        expect(relativeMaxError(actual, expected)).toBeLessThanOrEqual(1e-4);
      }
      await session.release();
    }
  });

  it('takes a batch size from inputShape for a dynamic batch, and rejects changing a fixed dim', () => {
    const g = importTflite(readBytes(RESNET8), RESNET8, { inputShape: [4, 3, 32, 32] });
    expect(g.values.get(g.inputs[0])!.shape).toEqual([4, 3, 32, 32]);
    expect(g.values.get(g.outputs[0])!.shape).toEqual([4, 10]);
    expectFlexqError(() => importTflite(readBytes(RESNET8), RESNET8, { inputShape: [1, 3, 31, 32] }), 'BAD_ARGUMENT', RESNET8, 'dim 2');
  });

  it('rejects an integer-quantized model with a message that says to give the float model', () => {
    const path = model('resnet8-cifar10/int8-reference.tflite');
    expectFlexqError(() => importFile(path), 'UNSUPPORTED_ATTR', path, 'INT8', 'float');
  });
});

// ---- Files that are not (whole) TFLite models ----------------------------------------------------------

describe('importTflite on broken files', () => {
  it('reports a truncated file as MODEL_PARSE with the path', () => {
    const path = 'truncated/resnet8.tflite';
    expectFlexqError(() => importTflite(readBytes(RESNET8).subarray(0, 100), path), 'MODEL_PARSE', path, 'truncated');
  });

  it('never lets a cut-off file escape as anything but a FlexqError', () => {
    const whole = readBytes(HELLO);
    for (let length = 0; length < whole.length; length += 13) {
      try {
        importTflite(whole.subarray(0, length), 'cut.tflite');
      } catch (e) {
        expect(e, `cut at ${length} bytes`).toBeInstanceOf(FlexqError);
        expect(['MODEL_PARSE', 'MODEL_INVALID']).toContain((e as FlexqError).code);
      }
    }
  });

  it('reports a file without the TFL3 identifier as MODEL_PARSE, saying what it expected and found', () => {
    const random = Uint8Array.from(randomValues(512, 7), (v) => Math.floor((v + 1) * 128));
    expectFlexqError(() => importTflite(random, 'noise.bin'), 'MODEL_PARSE', 'noise.bin', '"TFL3"', 'found');
    expectFlexqError(() => importTflite(readBytes(model('mnist-8/model.onnx')), 'mnist.onnx'), 'MODEL_PARSE', 'mnist.onnx', 'ONNX');
    expectFlexqError(() => importTflite(new Uint8Array(3), 'tiny.tflite'), 'MODEL_PARSE', 'tiny.tflite', '3 bytes');
  });
});

// ---- Fixtures made by code: every conversion rule against TensorFlow.js in NHWC ---------------------------

describe('importTflite conversion rules', () => {
  it('reads back what the fixture writer wrote, field by field', () => {
    const bytes = writeTflite({
      tensors: [{ name: 'x', shape: [1, 2], signature: [-1, 2], quantization: { scale: [0.5, 0.25], zeroPoint: [0, 3], axis: 1 } }],
      operators: [],
      inputs: [0],
      outputs: [0],
    });
    const model = readTfliteModel(bytes, 'fixture.tflite');
    expect(model.version).toBe(TFLITE_SCHEMA_VERSION);
    expect(model.description).toBe('flexq test fixture');
    expect(model.subgraphs[0].tensors[0]).toEqual({
      shape: [1, 2],
      shapeSignature: [-1, 2],
      type: TensorType.FLOAT32,
      buffer: 0,
      name: 'x',
      quantization: { scale: [0.5, 0.25], zeroPoint: [0, 3], quantizedDimension: 1 },
    });
  });

  /**
   * x[1,7,6,3] → CONV_2D (SAME, stride 2, RELU6) → DEPTHWISE_CONV_2D (×2, RELU) → MUL [8] → SUB [8] →
   * HARD_SWISH → PAD → MAX_POOL_2D → LOGISTIC → CONCATENATION (axis −1) → AVERAGE_POOL_2D (SAME) →
   * MEAN (axes 1,2) → FULLY_CONNECTED → SOFTMAX.
   */
  const cnn = (() => {
    const t: TensorSpec[] = [
      { name: 'x', shape: [1, 7, 6, 3], signature: [-1, 7, 6, 3] },
      floatTensor('conv_w', [4, 3, 3, 3], 1),
      floatTensor('conv_b', [4], 2),
      { name: 'conv', shape: [1, 4, 3, 4] },
      floatTensor('dw_w', [1, 3, 3, 8], 3),
      floatTensor('dw_b', [8], 4),
      { name: 'dw', shape: [1, 4, 3, 8] },
      floatTensor('scale', [8], 5),
      { name: 'scaled', shape: [1, 4, 3, 8] },
      floatTensor('shift', [8], 6),
      { name: 'shifted', shape: [1, 4, 3, 8] },
      { name: 'hswish', shape: [1, 4, 3, 8] },
      { name: 'paddings', shape: [4, 2], type: TensorType.INT32, data: int32Bytes([0, 0, 1, 0, 0, 2, 0, 0]) },
      { name: 'padded', shape: [1, 5, 5, 8] },
      { name: 'maxpool', shape: [1, 3, 3, 8] },
      { name: 'sigmoid', shape: [1, 3, 3, 8] },
      { name: 'concat', shape: [1, 3, 3, 16] },
      { name: 'avgpool', shape: [1, 3, 3, 16] },
      { name: 'axes', shape: [2], type: TensorType.INT32, data: int32Bytes([1, 2]) },
      { name: 'mean', shape: [1, 16] },
      floatTensor('fc_w', [5, 16], 7),
      floatTensor('fc_b', [5], 8),
      { name: 'logits', shape: [1, 5] },
      { name: 'probabilities', shape: [1, 5] },
    ];
    const at = (name: string): number => t.findIndex((x) => x.name === name);
    const operators: OperatorSpec[] = [
      { code: BuiltinOperator.CONV_2D, inputs: [0, 1, 2], outputs: [3], optionsType: BuiltinOptionsType.Conv2DOptions, options: conv2dOptions(Padding.SAME, 2, ActivationFunctionType.RELU6) },
      {
        code: BuiltinOperator.DEPTHWISE_CONV_2D,
        inputs: [3, 4, 5],
        outputs: [6],
        optionsType: BuiltinOptionsType.DepthwiseConv2DOptions,
        options: () => [
          [FIELD.DepthwiseConv2DOptions.padding, 'int8', Padding.SAME],
          [FIELD.DepthwiseConv2DOptions.stride_w, 'int32', 1],
          [FIELD.DepthwiseConv2DOptions.stride_h, 'int32', 1],
          [FIELD.DepthwiseConv2DOptions.depth_multiplier, 'int32', 2],
          [FIELD.DepthwiseConv2DOptions.fused_activation_function, 'int8', ActivationFunctionType.RELU],
        ],
      },
      { code: BuiltinOperator.MUL, inputs: [6, 7], outputs: [8] },
      { code: BuiltinOperator.SUB, inputs: [8, 9], outputs: [10], optionsType: BuiltinOptionsType.SubOptions, options: () => [[FIELD.SubOptions.fused_activation_function, 'int8', 0]] },
      { code: BuiltinOperator.HARD_SWISH, inputs: [10], outputs: [11] },
      { code: BuiltinOperator.PAD, inputs: [11, 12], outputs: [13] },
      { code: BuiltinOperator.MAX_POOL_2D, inputs: [13], outputs: [14], optionsType: BuiltinOptionsType.Pool2DOptions, options: pool2dOptions(Padding.SAME, 2, 2) },
      { code: BuiltinOperator.LOGISTIC, inputs: [14], outputs: [15] },
      {
        code: BuiltinOperator.CONCATENATION,
        inputs: [14, 15],
        outputs: [16],
        optionsType: BuiltinOptionsType.ConcatenationOptions,
        options: () => [[FIELD.ConcatenationOptions.axis, 'int32', -1]],
      },
      { code: BuiltinOperator.AVERAGE_POOL_2D, inputs: [16], outputs: [17], optionsType: BuiltinOptionsType.Pool2DOptions, options: pool2dOptions(Padding.SAME, 2, 1) },
      { code: BuiltinOperator.MEAN, inputs: [17, 18], outputs: [19], optionsType: BuiltinOptionsType.ReducerOptions, options: () => [] },
      { code: BuiltinOperator.FULLY_CONNECTED, inputs: [19, 20, 21], outputs: [22] },
      { code: BuiltinOperator.SOFTMAX, inputs: [22], outputs: [23], optionsType: BuiltinOptionsType.SoftmaxOptions, options: () => [[FIELD.SoftmaxOptions.beta, 'float32', 1]] },
    ];
    const w = (name: string) => tf.tensor(valuesOf(t[at(name)]), [...t[at(name)].shape]);
    /** The same network written directly in TensorFlow.js, NHWC, as TFLite defines each op. */
    const reference = (x: tf.Tensor4D): Record<string, tf.Tensor> =>
      tf.tidy(() => {
        const conv = tf.clipByValue(tf.add(tf.conv2d(x, tf.transpose(w('conv_w'), [1, 2, 3, 0]) as tf.Tensor4D, 2, 'same'), w('conv_b')), 0, 6);
        const dw = tf.relu(tf.add(tf.depthwiseConv2d(conv as tf.Tensor4D, tf.reshape(w('dw_w'), [3, 3, 4, 2]) as tf.Tensor4D, 1, 'same'), w('dw_b')));
        const shifted = tf.sub(tf.mul(dw, w('scale')), w('shift'));
        const hswish = tf.div(tf.mul(shifted, tf.relu6(tf.add(shifted, 3))), 6);
        const padded = tf.pad(hswish, [[0, 0], [1, 0], [0, 2], [0, 0]]);
        const maxpool = tf.maxPool(padded as tf.Tensor4D, 2, 2, 'same');
        const concat = tf.concat([maxpool, tf.sigmoid(maxpool)], 3);
        const avgpool = tf.avgPool(concat as tf.Tensor4D, 2, 1, 'same');
        const mean = tf.mean(avgpool, [1, 2]);
        const logits = tf.add(tf.matMul(mean, w('fc_w'), false, true), w('fc_b'));
        return { conv, dw, shifted, hswish, padded, maxpool, concat, avgpool, mean, logits, probabilities: tf.softmax(logits) };
      });
    return { bytes: writeTflite({ tensors: t, operators, inputs: [0], outputs: [23] }), reference };
  })();

  it('converts a CNN of every supported op to NCHW and computes what TensorFlow.js computes in NHWC', async () => {
    const g = importTflite(cnn.bytes, 'cnn.tflite');
    expect(verifyGraph(g)).toEqual([]);
    expect(g.values.get('x')!.shape).toEqual([1, 3, 7, 6]);
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    expect(conv.attrs.pads).toEqual([1, 0, 1, 1]); // SAME, stride 2: rows 7 → 4 pad 1+1, cols 6 → 3 pad 0+1
    expect(g.values.get('dw_w')!.shape).toEqual([8, 1, 3, 3]);
    expect(g.nodes.find((n) => n.inputs[1] === 'dw_w')!.attrs.group).toBe(4);
    expect(g.values.get('scale')!.shape).toEqual([8, 1, 1]);
    expect(g.nodes.find((n) => n.op === 'Pad')!.attrs.pads).toEqual([0, 0, 1, 0, 0, 0, 0, 2]);
    expect(g.nodes.find((n) => n.op === 'Concat')!.attrs.axis).toBe(1);
    expect(g.nodes.find((n) => n.op === 'AveragePool')!.attrs.countIncludePad).toBe(0);
    expect(g.nodes.find((n) => n.op === 'Softmax')!.attrs.axis).toBe(1);
    expect(opCounts(g)).toMatchObject({ Clip: 1, Relu: 1, Mul: 1, Sub: 1, HardSwish: 1, MaxPool: 1, Sigmoid: 1, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });

    const x = randomValues(7 * 6 * 3, 9).map((v) => 3 * v);
    const expected = cnn.reference(tf.tensor4d(x, [1, 7, 6, 3]));
    const names = Object.keys(expected);
    const nchwInput = toIrLayout(tf.tensor4d(x, [1, 7, 6, 3]));
    const actual = await runGraph(g, nchwInput, names);
    for (const name of names) {
      const want = toIrLayout(expected[name]);
      expect(actual.get(name)!.shape, name).toEqual(g.values.get(name)!.shape);
      expect(relativeMaxError(actual.get(name)!.data, want), name).toBeLessThan(1e-5);
    }
    tf.dispose(Object.values(expected));
  });

  /**
   * x[1,4,3,2] → CONV_2D with per-channel INT8 weights (dynamic range) → RESHAPE [1,60] (NHWC order) →
   * FULLY_CONNECTED with FLOAT16 weights through DEQUANTIZE → RESHAPE to [1,2,3,2] (rank 4) → ADD a rank-4
   * constant → FULLY_CONNECTED on the rank-4 value; the two RESHAPE outputs share a name.
   */
  const layouts = (() => {
    const q = Int8Array.from(randomValues(5 * 2, 11), (v) => Math.round(v * 127));
    const qScale = [0.01, 0.02, 0.03, 0.04, 0.05];
    const halfWeights = Float32Array.from(randomValues(12 * 60, 12), (v) => Math.round(v * 64) / 64);
    const t: TensorSpec[] = [
      { name: 'x', shape: [1, 4, 3, 2] },
      { name: 'conv_w', shape: [5, 1, 1, 2], type: TensorType.INT8, data: new Uint8Array(q.buffer), quantization: { scale: qScale, zeroPoint: [0, 0, 0, 0, 0], axis: 0 } },
      floatTensor('conv_b', [5], 13),
      { name: 'conv', shape: [1, 4, 3, 5] },
      { name: 'flat', shape: [1, 60] },
      { name: 'fc1_w16', shape: [12, 60], type: TensorType.FLOAT16, data: new Uint8Array(Uint16Array.from(halfWeights, toHalf).buffer) },
      { name: 'fc1_w', shape: [12, 60] },
      { name: 'fc1', shape: [1, 12] },
      { name: 'shape', shape: [4], type: TensorType.INT32, data: int32Bytes([1, 2, 3, 2]) },
      { name: 'flat', shape: [1, 2, 3, 2] },
      floatTensor('offset', [1, 2, 3, 2], 14),
      { name: 'sum', shape: [1, 2, 3, 2] },
      floatTensor('fc2_w', [3, 12], 15),
      { name: 'out', shape: [1, 3] },
    ];
    const operators: OperatorSpec[] = [
      { code: BuiltinOperator.CONV_2D, inputs: [0, 1, 2], outputs: [3], optionsType: BuiltinOptionsType.Conv2DOptions, options: conv2dOptions(Padding.VALID, 1, ActivationFunctionType.NONE) },
      {
        code: BuiltinOperator.RESHAPE,
        inputs: [3],
        outputs: [4],
        optionsType: BuiltinOptionsType.ReshapeOptions,
        options: (b) => [[FIELD.ReshapeOptions.new_shape, 'offset', writeVector(b, [1, 60], 'int32')]],
      },
      { code: BuiltinOperator.DEQUANTIZE, inputs: [5], outputs: [6] },
      { code: BuiltinOperator.FULLY_CONNECTED, inputs: [4, 6, -1], outputs: [7] },
      { code: BuiltinOperator.RESHAPE, inputs: [7, 8], outputs: [9] },
      { code: BuiltinOperator.ADD, inputs: [9, 10], outputs: [11] },
      { code: BuiltinOperator.FULLY_CONNECTED, inputs: [11, 12, -1], outputs: [13] },
    ];
    const reference = (x: tf.Tensor4D): Record<string, tf.Tensor> =>
      tf.tidy(() => {
        const convWeights = Float32Array.from(q, (v, i) => qScale[Math.floor(i / 2)] * v);
        const conv = tf.add(tf.conv2d(x, tf.transpose(tf.tensor4d(convWeights, [5, 1, 1, 2]), [1, 2, 3, 0]) as tf.Tensor4D, 1, 'valid'), tf.tensor(valuesOf(t[2])));
        const fc1 = tf.matMul(tf.reshape(conv, [1, 60]), tf.tensor2d(halfWeights, [12, 60]), false, true);
        const sum = tf.add(tf.reshape(fc1, [1, 2, 3, 2]), tf.tensor(valuesOf(t[10]), [1, 2, 3, 2]));
        const out = tf.matMul(tf.reshape(sum, [1, 12]), tf.tensor2d(valuesOf(t[12]), [3, 12]), false, true);
        return { conv, fc1, sum, out };
      });
    return { bytes: writeTflite({ tensors: t, operators, inputs: [0], outputs: [13, 11] }), reference };
  })();

  it('flattens and unflattens in TFLite’s NHWC order and folds dequantized weights', async () => {
    const g = importTflite(layouts.bytes, 'layouts.tflite');
    expect(verifyGraph(g)).toEqual([]);
    expect(g.outputs).toEqual(['out', 'sum']);
    expect(g.values.has('flat') && g.values.has('flat_1')).toBe(true); // a repeated TFLite name is made unique
    expect(g.values.get('flat_1')!.shape).toEqual([1, 2, 2, 3]);
    expect(g.values.has('fc1_w16')).toBe(false); // DEQUANTIZE folded into the float32 constant it produces
    expect(g.values.get('fc1_w')!.data).toBeInstanceOf(Float32Array);
    expect(g.values.get('conv_w')!.data).toBeInstanceOf(Float32Array);
    expect(g.values.get('offset')!.shape).toEqual([1, 2, 2, 3]);

    const x = randomValues(4 * 3 * 2, 16);
    const expected = layouts.reference(tf.tensor4d(x, [1, 4, 3, 2]));
    const actual = await runGraph(g, toIrLayout(tf.tensor4d(x, [1, 4, 3, 2])), Object.keys(expected));
    for (const [name, want] of Object.entries(expected)) expect(relativeMaxError(actual.get(name)!.data, toIrLayout(want)), name).toBeLessThan(1e-5);
    tf.dispose(Object.values(expected));
  });

  it('lists every unsupported operator at once, with its index and output', () => {
    const bytes = writeTflite({
      tensors: [
        { name: 'x', shape: [1, 4] },
        { name: 'squeezed', shape: [4] },
        { name: 'relu', shape: [4] },
        { name: 'custom_out', shape: [4] },
      ],
      operators: [
        { code: 43, inputs: [0], outputs: [1] },
        { code: BuiltinOperator.RELU, inputs: [1], outputs: [2] },
        { code: BuiltinOperator.CUSTOM, customCode: 'MyOp', inputs: [2], outputs: [3] },
      ],
      inputs: [0],
      outputs: [3],
    });
    const error = expectFlexqError(() => importTflite(bytes, 'ops.tflite'), 'UNSUPPORTED_OP', 'ops.tflite', "#0 builtin operator 43 (output 'squeezed')", "#2 CUSTOM 'MyOp' (output 'custom_out')");
    expect(error.message).toContain('Supported:');
    expect(error.message).not.toContain('#1');
  });

  it('names the operator when a weight is not constant', () => {
    const bytes = writeTflite({
      tensors: [
        { name: 'x', shape: [1, 4] },
        { name: 'w', shape: [2, 4] },
        { name: 'y', shape: [1, 2] },
      ],
      operators: [{ code: BuiltinOperator.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
      inputs: [0, 1],
      outputs: [2],
    });
    expectFlexqError(() => importTflite(bytes, 'fc.tflite'), 'UNSUPPORTED_ATTR', "fc.tflite: operator 0 (FULLY_CONNECTED) writing 'y'", "weights 'w'", 'constant');
  });
});
