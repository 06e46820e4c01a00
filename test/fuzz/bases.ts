// The valid files the fuzzer mutates: models from /work/shared when present, and small ones made by code.
import { existsSync, readFileSync } from 'node:fs';
import type pkg from 'onnx-proto';
import sharp from 'sharp';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { encodeFq } from '../../src/quant/fq-file.js';
import type { ActivationQuant, QuantInfo } from '../../src/ir/quantized-graph.js';
import { quantizeRtn } from '../../src/quant/rtn.js';
import { activationQuant } from '../../src/quant/schemes.js';
import { encodeModel, floatInitializer, tensorInput } from '../helpers/onnx-fixtures.js';
import { randomFloats } from '../helpers/graphs.js';
import { model } from '../helpers/shared.js';

export interface Base {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface Bases {
  readonly onnx: readonly Base[];
  readonly tflite: readonly Base[];
  readonly fq: readonly Base[];
  readonly npy: { readonly data: Uint8Array; readonly labels: Uint8Array; readonly sampleShape: readonly number[] };
  readonly png: Uint8Array;
  readonly jpeg: Uint8Array;
}

/** Conv(3→4, 3×3, pad 1) → Relu → MaxPool 2 → Flatten → Gemm(64→5): every kind of node the importers window-check. */
export function tinyOnnx(): Uint8Array {
  return new Uint8Array(encodeModel({
    name: 'tiny',
    input: [tensorInput('x', [1, 3, 8, 8])],
    output: [{ name: 'y' }],
    initializer: [
      floatInitializer('w', [4, 3, 3, 3], [...randomFloats(108, 1)]),
      floatInitializer('b', [4], [0.1, -0.1, 0.2, 0]),
      floatInitializer('fc', [5, 64], [...randomFloats(320, 2)]),
      floatInitializer('fcb', [5], [0, 0, 0, 0, 0]),
    ],
    node: [
      { name: 'conv', opType: 'Conv', input: ['x', 'w', 'b'], output: ['c'], attribute: [{ name: 'pads', type: 7, ints: [1, 1, 1, 1] }, { name: 'strides', type: 7, ints: [1, 1] }] },
      { name: 'relu', opType: 'Relu', input: ['c'], output: ['r'] },
      { name: 'pool', opType: 'MaxPool', input: ['r'], output: ['p'], attribute: [{ name: 'kernel_shape', type: 7, ints: [2, 2] }, { name: 'strides', type: 7, ints: [2, 2] }] },
      { name: 'flat', opType: 'Flatten', input: ['p'], output: ['f'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      { name: 'fc', opType: 'Gemm', input: ['f', 'fc', 'fcb'], output: ['y'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
    ],
  }));
}

const ints = (name: string, values: number[]): pkg.onnx.ITensorProto => ({ name, dataType: 7, dims: [values.length], int64Data: values });
const floats = (name: string, dims: number[], seed: number): pkg.onnx.ITensorProto =>
  floatInitializer(name, dims, [...randomFloats(dims.reduce((a, b) => a * b, 1), seed)]);
const attr = (name: string, v: number | number[]): pkg.onnx.IAttributeProto => (Array.isArray(v) ? { name, type: 7, ints: v } : { name, type: 2, i: v });

/** One node of most op types the ONNX importer knows (opset 13), so mutations reach every op's shape inference. */
export function opsOnnx(): Uint8Array {
  const node = (opType: string, input: string[], output: string, attribute: pkg.onnx.IAttributeProto[] = []) => ({ name: output, opType, input, output: [output], attribute });
  return new Uint8Array(encodeModel({
    name: 'ops',
    input: [tensorInput('x', [1, 3, 8, 8])],
    output: [{ name: 'y' }],
    initializer: [
      floatInitializer('bn_s', [3], [1, 0.5, 2]), floatInitializer('bn_b', [3], [0, 0.1, -0.1]),
      floatInitializer('bn_m', [3], [0, 0.2, 0]), floatInitializer('bn_v', [3], [1, 1, 0.5]),
      ints('pads', [0, 0, 1, 1, 0, 0, 1, 1]), floats('w', [4, 3, 3, 3], 4), floats('wt', [4, 2, 2, 2], 5),
      floatInitializer('scales', [4], [1, 1, 0.5, 0.5]), ints('starts', [0]), ints('ends', [4]), ints('axes1', [1]),
      ints('sq_axes', [2, 3]), ints('us_axes', [2]), ints('shape', [1, 4]), floats('mw', [4, 5], 6), floats('mb', [5], 7),
      floatInitializer('lo', [], [-3]), floatInitializer('hi', [], [3]),
    ],
    node: [
      node('BatchNormalization', ['x', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], 'x1'),
      node('Pad', ['x1', 'pads'], 'x2'),
      node('Conv', ['x2', 'w'], 'c'),
      node('ConvTranspose', ['c', 'wt'], 'u', [attr('strides', [2, 2])]),
      node('AveragePool', ['u'], 'a', [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])]),
      node('Concat', ['a', 'c'], 'k', [attr('axis', 1)]),
      node('Resize', ['k', '', 'scales'], 'r'),
      node('Slice', ['r', 'starts', 'ends', 'axes1'], 's'),
      node('Transpose', ['s'], 't', [attr('perm', [0, 1, 3, 2])]),
      node('GlobalAveragePool', ['t'], 'g'),
      node('Squeeze', ['g', 'sq_axes'], 'q'),
      node('Unsqueeze', ['q', 'us_axes'], 'uq'),
      node('Reshape', ['uq', 'shape'], 'rq'),
      node('MatMul', ['rq', 'mw'], 'mo'),
      node('Add', ['mo', 'mb'], 'ad'),
      node('Clip', ['ad', 'lo', 'hi'], 'cl'),
      node('Softmax', ['cl'], 'sm', [attr('axis', -1)]),
      node('Cast', ['sm'], 'y', [attr('to', 1)]),
    ],
  }));
}

/** An .fq made without calibration: RTN weights and a [−1, 1] grid on every activation. */
function fqOf(bytes: Uint8Array, name: string): Uint8Array {
  const graph = optimizeGraph(importOnnx(bytes, name));
  const activations = new Map<string, ActivationQuant>();
  for (const v of [...graph.inputs, ...graph.nodes.flatMap((n) => n.outputs)]) activations.set(v, activationQuant(-1, 1, 8));
  const info: QuantInfo = { flexqVersion: '0.0.0-fuzz', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: name, calibrationSamples: 0 };
  return encodeFq(quantizeRtn(graph, activations, { wbits: 8, edgeBits: 8 }, info));
}

/** A .npy file as numpy writes it (v1, header padded to 64 bytes). */
export function npyBytes(descr: string, shape: readonly number[], data: ArrayBufferView): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.map((d) => `${d},`).join(' ')}), }`;
  const header = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 11) + '\n';
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(Buffer.from(header, 'latin1'), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return bytes;
}

const read = (rel: string): Base[] => (existsSync(model(rel)) ? [{ name: rel, bytes: new Uint8Array(readFileSync(model(rel))) }] : []);

export async function loadBases(): Promise<Bases> {
  const tiny = tinyOnnx();
  const onnx: Base[] = [{ name: 'tiny.onnx', bytes: tiny }, { name: 'ops.onnx', bytes: opsOnnx() }, ...read('resnet8-cifar10/float.onnx'), ...read('mnist-8/model.onnx'), ...read('dscnn-kws/float.onnx')];
  const tflite: Base[] = [
    { name: 'tiny-cnn.tflite', bytes: new Uint8Array(readFileSync(new URL('../fixtures/tiny-cnn.tflite', import.meta.url))) },
    ...read('resnet8-cifar10/float.tflite'),
    ...read('dscnn-kws/float.tflite'),
    ...read('hello-world/float.tflite'),
  ];
  const fq: Base[] = onnx.filter((b) => b.name !== 'dscnn-kws/float.onnx').map((b) => ({ name: b.name.replace(/\.onnx$/, '.fq'), bytes: fqOf(b.bytes, b.name) }));
  const sampleShape = [3, 8, 8];
  const npy = {
    data: npyBytes('<f4', [4, ...sampleShape], randomFloats(4 * 192, 3)),
    labels: npyBytes('<i8', [4], BigInt64Array.from([0n, 1n, 2n, 1n])),
    sampleShape,
  };
  const pixels = Buffer.from(Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) % 256));
  const raw = { raw: { width: 16, height: 16, channels: 3 as const } };
  const png = new Uint8Array(await sharp(pixels, raw).png().toBuffer());
  const jpeg = new Uint8Array(await sharp(pixels, raw).jpeg({ quality: 80 }).toBuffer());
  return { onnx, tflite, fq, npy, png, jpeg };
}
