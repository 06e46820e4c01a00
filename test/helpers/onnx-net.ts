// Small randomly initialised ONNX models written in code, and their float run checked against onnxruntime-node.
import * as ort from 'onnxruntime-node';
import type pkg from 'onnx-proto';
import { expect } from 'vitest';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { randomFloats } from './graphs.js';
import { encodeModel, floatInitializer, tensorInput } from './onnx-fixtures.js';
import { relativeMaxError } from './shared.js';

type Attr = pkg.onnx.IAttributeProto;
export const ints = (name: string, v: readonly number[]): Attr => ({ name, type: 7, ints: [...v] });
export const int = (name: string, v: number): Attr => ({ name, type: 2, i: v });
export const float = (name: string, v: number): Attr => ({ name, type: 1, f: v });
export const floats = (name: string, v: readonly number[]): Attr => ({ name, type: 6, floats: [...v] });
export const str = (name: string, v: string): Attr => ({ name, type: 3, s: new TextEncoder().encode(v) });
export const int64Initializer = (name: string, v: readonly number[], dims = [v.length]): pkg.onnx.ITensorProto => ({ name, dataType: 7, dims, int64Data: [...v] });

/** Builds a one-input ('x') one-output ('y') ONNX graph node by node, with seeded random weights. */
export class OnnxNet {
  private readonly nodes: pkg.onnx.INodeProto[] = [];
  private readonly initializers: pkg.onnx.ITensorProto[] = [];
  private count = 0;

  constructor(private readonly inputShape: readonly (number | string)[], private readonly opset = 13) {}

  /** A float initializer of uniform values in offset ± scale (seeded by its position). */
  weight(dims: readonly number[], scale = 1, offset = 0): string {
    const name = `w${this.count++}`;
    const n = dims.reduce((a, b) => a * b, 1);
    this.initializers.push(floatInitializer(name, [...dims], [...randomFloats(n, 11 + this.count)].map((v) => offset + v * scale)));
    return name;
  }

  float32(values: readonly number[], dims = [values.length]): string {
    const name = `f${this.count++}`;
    this.initializers.push(floatInitializer(name, dims, [...values]));
    return name;
  }

  int64(values: readonly number[], dims = [values.length]): string {
    const name = `i${this.count++}`;
    this.initializers.push(int64Initializer(name, values, dims));
    return name;
  }

  /** Adds a node; returns its outputs' names (`outputs` of them). */
  node(opType: string, inputs: readonly string[], attribute: Attr[] = [], outputs = 1): string[] {
    const k = this.count++;
    const out = Array.from({ length: outputs }, (_, i) => `${opType.toLowerCase()}${k}_${i}`);
    this.nodes.push({ name: `${opType.toLowerCase()}_${k}`, opType, input: [...inputs], output: out, attribute });
    return out;
  }

  op(opType: string, inputs: readonly string[], attribute: Attr[] = []): string {
    return this.node(opType, inputs, attribute)[0];
  }

  /** Conv with bias and weights scaled by 1/√fan-in, so activations stay O(1) through deep stacks. */
  conv(x: string, cin: number, cout: number, k: number, o: { pad?: number; stride?: number; group?: number } = {}): string {
    const group = o.group ?? 1;
    const w = this.weight([cout, cin / group, k, k], 1.7 / Math.sqrt((cin / group) * k * k));
    const b = this.weight([cout], 0.1);
    const pad = o.pad ?? 0;
    return this.op('Conv', [x, w, b], [ints('kernel_shape', [k, k]), ints('pads', [pad, pad, pad, pad]), ints('strides', [o.stride ?? 1, o.stride ?? 1]), int('group', group)]);
  }

  batchNorm(x: string, c: number): string {
    return this.op('BatchNormalization', [x, this.weight([c], 0.5, 1), this.weight([c], 0.2), this.weight([c], 0.2), this.weight([c], 0.4, 0.6)]);
  }

  gemm(x: string, inF: number, outF: number): string {
    return this.op('Gemm', [x, this.weight([outF, inF], 1.7 / Math.sqrt(inF)), this.weight([outF], 0.1)], [int('transB', 1)]);
  }

  /** The model with `y` as the graph output (an Identity of `last`). */
  bytes(last: string): Uint8Array {
    this.nodes.push({ name: 'out', opType: 'Identity', input: [last], output: ['y'] });
    return this.bytesWithOutputs(['y']);
  }

  /** The model with these values as its graph outputs, in order. */
  bytesWithOutputs(outputs: readonly string[]): Uint8Array {
    const graph = { name: 'net', input: [tensorInput('x', [...this.inputShape])], output: outputs.map((name) => ({ name })), initializer: this.initializers, node: this.nodes };
    return encodeModel(graph, this.opset);
  }
}

/**
 * Imports and optimizes `bytes`, runs it on the float executor on a seeded random input (±3), runs `reference`
 * (default: the same bytes) in onnxruntime-node, and returns the relative max error.
 */
export async function floatAgreement(bytes: Uint8Array, xShape: number[], reference: Uint8Array = bytes): Promise<number> {
  const graph = optimizeGraph(importOnnx(bytes, 'm.onnx'));
  expect(verifyGraph(graph)).toEqual([]);
  const x = randomFloats(xShape.reduce((a, b) => a * b, 1), 7).map((v) => 3 * v);
  const session = await ort.InferenceSession.create(reference);
  const want = (await session.run({ x: new ort.Tensor('float32', x, xShape) })).y;
  await session.release();
  const ex = await createFloatExecutor(graph);
  const got = ex.run({ x: { shape: xShape, data: x } }).get(graph.outputs[0])!;
  ex.dispose();
  expect(got.shape).toEqual(want.dims);
  return relativeMaxError(got.data, want.data as Float32Array);
}
