import * as ort from 'onnxruntime-node';
import type pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { randomFloats } from '../helpers/graphs.js';
import { encodeModel, floatInitializer, tensorInput } from '../helpers/onnx-fixtures.js';
import { relativeMaxError } from '../helpers/shared.js';

type Attr = number | number[] | string | Float32Array;

/** One op test case, as data: an ONNX node over input `x` (and made-up initializers), checked against onnxruntime. */
interface OpCase {
  readonly title: string;
  readonly op: string;
  readonly x: number[];
  readonly weights?: Record<string, number[] | { ints: number[] } | { floats: number[]; dims: number[] }>;
  readonly inputs?: string[];
  readonly attrs?: Record<string, Attr>;
  readonly opset?: number;
}

function attribute(name: string, v: Attr): pkg.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) && name !== 'alpha' && name !== 'beta' ? { name, type: 2, i: v } : { name, type: 1, f: v };
  return { name, type: 7, ints: [...v] };
}

function caseModel(c: OpCase): Uint8Array {
  const inits = Object.entries(c.weights ?? {}).map(([name, w], k) => {
    if ('ints' in w) return { name, dataType: 7, dims: [w.ints.length], int64Data: w.ints };
    if ('floats' in w) return floatInitializer(name, w.dims, w.floats);
    return floatInitializer(name, w, [...randomFloats(w.reduce((a, b) => a * b, 1), 20 + k)]);
  });
  return encodeModel({
    name: c.title,
    input: [tensorInput('x', c.x)],
    output: [{ name: 'y' }],
    initializer: inits,
    node: [{ name: 'n', opType: c.op, input: ['x', ...(c.inputs ?? [])], output: ['y'], attribute: Object.entries(c.attrs ?? {}).map(([k, v]) => attribute(k, v)) }],
  }, c.opset ?? 13);
}

const CASES: OpCase[] = [
  { title: 'grouped conv, asymmetric pads, stride 2', op: 'Conv', x: [2, 4, 7, 6], weights: { w: [6, 2, 3, 3], b: [6] }, inputs: ['w', 'b'], attrs: { group: 2, pads: [0, 1, 2, 1], strides: [2, 2] } },
  { title: 'depthwise conv with channel multiplier 2', op: 'Conv', x: [2, 3, 6, 6], weights: { w: [6, 1, 3, 3] }, inputs: ['w'], attrs: { group: 3, pads: [1, 1, 1, 1] } },
  { title: 'depthwise conv with strides (2,1)', op: 'Conv', x: [1, 4, 8, 6], weights: { w: [4, 1, 5, 5] }, inputs: ['w'], attrs: { group: 4, pads: [2, 2, 2, 2], strides: [2, 1] } },
  { title: 'dilated conv', op: 'Conv', x: [1, 2, 9, 9], weights: { w: [3, 2, 3, 3] }, inputs: ['w'], attrs: { dilations: [2, 2] } },
  { title: 'conv transpose, stride 2, pads, output padding', op: 'ConvTranspose', x: [2, 3, 4, 5], weights: { w: [3, 2, 3, 3], b: [2] }, inputs: ['w', 'b'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] } },
  { title: 'gemm with transA, alpha, beta', op: 'Gemm', x: [5, 3], weights: { w: [5, 4], c: [4] }, inputs: ['w', 'c'], attrs: { transA: 1, alpha: 0.5, beta: 2 } },
  { title: 'matmul', op: 'MatMul', x: [3, 5], weights: { w: [5, 4] }, inputs: ['w'] },
  { title: 'max pool with pads and ceil mode', op: 'MaxPool', x: [1, 2, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { title: 'average pool with pads, padding excluded', op: 'AveragePool', x: [1, 2, 6, 6], attrs: { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] } },
  { title: 'average pool with pads, padding counted', op: 'AveragePool', x: [1, 2, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 } },
  { title: 'global average pool', op: 'GlobalAveragePool', x: [2, 3, 5, 4] },
  { title: 'add broadcasting [W] over NCHW', op: 'Add', x: [2, 3, 4, 5], weights: { b: [5] }, inputs: ['b'] },
  { title: 'mul broadcasting [C,1,1]', op: 'Mul', x: [2, 3, 4, 5], weights: { s: [3, 1, 1] }, inputs: ['s'] },
  { title: 'sub', op: 'Sub', x: [2, 3, 4, 5], weights: { s: [1, 3, 4, 1] }, inputs: ['s'] },
  { title: 'div', op: 'Div', x: [2, 6], weights: { s: { floats: [0.5, -2, 3, 0.25, 4, -1], dims: [6] } }, inputs: ['s'] },
  { title: 'sigmoid', op: 'Sigmoid', x: [2, 3, 4, 4] },
  { title: 'hard sigmoid', op: 'HardSigmoid', x: [2, 3, 4, 4], attrs: { alpha: 0.25, beta: 0.4 } },
  { title: 'hard swish', op: 'HardSwish', x: [2, 3, 4, 4], opset: 14 },
  { title: 'clip (inputs form)', op: 'Clip', x: [2, 8], weights: { lo: { floats: [-0.5], dims: [] }, hi: { floats: [1.5], dims: [] } }, inputs: ['lo', 'hi'] },
  { title: 'transpose of a rank-4 tensor', op: 'Transpose', x: [2, 3, 4, 5], attrs: { perm: [0, 2, 3, 1] } },
  { title: 'flatten at axis 2', op: 'Flatten', x: [2, 3, 4, 5], attrs: { axis: 2 } },
  { title: 'reshape 4-D to 3-D', op: 'Reshape', x: [2, 3, 4, 5], weights: { s: { ints: [0, 12, 5] } }, inputs: ['s'] },
  { title: 'concat on channels', op: 'Concat', x: [2, 3, 4, 5], weights: { c: [2, 2, 4, 5] }, inputs: ['c'], attrs: { axis: 1 } },
  { title: 'slice with steps on H and W', op: 'Slice', x: [2, 3, 8, 9], weights: { st: { ints: [1, 0] }, en: { ints: [7, 9] }, ax: { ints: [2, 3] }, sp: { ints: [2, 3] } }, inputs: ['st', 'en', 'ax', 'sp'] },
  { title: 'pad (constant) on H and W', op: 'Pad', x: [1, 2, 3, 4], weights: { p: { ints: [0, 0, 1, 2, 0, 0, 2, 1] }, v: { floats: [0.75], dims: [] } }, inputs: ['p', 'v'] },
  { title: 'softmax over channels of a rank-4 tensor', op: 'Softmax', x: [2, 5, 3, 3], attrs: { axis: 1 } },
  { title: 'squeeze', op: 'Squeeze', x: [2, 3, 1, 1], weights: { a: { ints: [2, 3] } }, inputs: ['a'] },
  { title: 'unsqueeze', op: 'Unsqueeze', x: [2, 3], weights: { a: { ints: [1, 3] } }, inputs: ['a'] },
  { title: 'resize, linear, half-pixel, scale 2', op: 'Resize', x: [1, 2, 3, 4], weights: { scales: { floats: [1, 1, 2, 2], dims: [4] } }, inputs: ['', 'scales'], attrs: { mode: 'linear' } },
  { title: 'conv with a kernel taller than wide (3×2)', op: 'Conv', x: [2, 3, 7, 5], weights: { w: [4, 3, 3, 2] }, inputs: ['w'], attrs: { pads: [1, 0, 1, 1] } },
  { title: 'dilated conv with stride 2', op: 'Conv', x: [1, 3, 9, 8], weights: { w: [2, 3, 3, 3] }, inputs: ['w'], attrs: { dilations: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { title: 'LRN across 5 channels', op: 'LRN', x: [2, 7, 3, 3], attrs: { size: 5, alpha: 0.05, beta: 0.75, bias: 1.5 } },
  { title: 'PRelu with a [C,1,1] slope', op: 'PRelu', x: [2, 3, 4, 4], weights: { s: [3, 1, 1] }, inputs: ['s'] },
  { title: 'leaky relu', op: 'LeakyRelu', x: [2, 3, 4, 4], attrs: { alpha: 0.1 } },
  { title: 'elu', op: 'Elu', x: [2, 3, 4, 4], attrs: { alpha: 0.5 } },
  { title: 'tanh', op: 'Tanh', x: [2, 3, 4, 4] },
  { title: 'floor', op: 'Floor', x: [2, 3, 4, 4] },
  { title: 'ceil', op: 'Ceil', x: [2, 3, 4, 4] },
  { title: 'neg', op: 'Neg', x: [2, 3, 4, 4] },
  { title: 'abs', op: 'Abs', x: [2, 3, 4, 4] },
  { title: 'max of three (variadic)', op: 'Max', x: [2, 3, 4, 4], weights: { a: [3, 1, 1], b: [4] }, inputs: ['a', 'b'] },
  { title: 'reduce mean over H and W, dims dropped', op: 'ReduceMean', x: [2, 3, 4, 5], attrs: { axes: [2, 3], keepdims: 0 } },
  { title: 'gather channels with a negative index', op: 'Gather', x: [2, 4, 3, 3], weights: { i: { ints: [3, -4, 1] } }, inputs: ['i'], attrs: { axis: 1 } },
  { title: 'tile', op: 'Tile', x: [2, 3, 2, 2], weights: { r: { ints: [1, 2, 3, 1] } }, inputs: ['r'] },
  { title: 'expand [C,1,1] to [C,H,W] under a batch', op: 'Expand', x: [2, 3, 1, 1], weights: { s: { ints: [3, 4, 5] } }, inputs: ['s'] },
  { title: 'depth to space, CRD', op: 'DepthToSpace', x: [1, 8, 2, 3], attrs: { blocksize: 2, mode: 'CRD' } },
  { title: 'space to depth', op: 'SpaceToDepth', x: [2, 2, 4, 6], attrs: { blocksize: 2 } },
  { title: 'batch normalization', op: 'BatchNormalization', x: [2, 3, 4, 4], weights: { g: [3], b: [3], m: [3], v: { floats: [0.5, 1, 2], dims: [3] } }, inputs: ['g', 'b', 'm', 'v'] },
];

describe('float executor op by op, against onnxruntime-node (models made by code)', () => {
  for (const c of CASES) {
    it(c.title, async () => {
      const bytes = caseModel(c);
      const graph = optimizeGraph(importOnnx(bytes, c.title));
      const x = randomFloats(c.x.reduce((a, b) => a * b, 1), 5).map((v) => 3 * v);
      const session = await ort.InferenceSession.create(bytes);
      const want = (await session.run({ x: new ort.Tensor('float32', x, c.x) })).y;
      const ex = await createFloatExecutor(graph);
      const got = ex.run({ x: { shape: c.x, data: x } }).get(graph.outputs[0])!;
      ex.dispose();
      expect(got.shape).toEqual(want.dims);
      expect(relativeMaxError(got.data, want.data as Float32Array)).toBeLessThan(1e-5);
    });
  }
});

describe('float executor ops onnxruntime cannot check', () => {
  it('LRN with an even size sums channels c−1 … c+2 (ONNX\'s window), checked against the formula', async () => {
    const shape = [1, 6, 2, 2];
    const graph = optimizeGraph(importOnnx(caseModel({ title: 'lrn4', op: 'LRN', x: shape, attrs: { size: 4, alpha: 0.3, beta: 0.75, bias: 1.5 } }), 'lrn4'));
    const x = randomFloats(24, 5).map((v) => 3 * v);
    const ex = await createFloatExecutor(graph);
    const got = ex.run({ x: { shape, data: x } }).get(graph.outputs[0])!;
    ex.dispose();
    const want = x.map((v, i) => {
      const [c, p] = [Math.floor(i / 4), i % 4];
      let sum = 0;
      for (let k = Math.max(0, c - 1); k <= Math.min(5, c + 2); k++) sum += x[k * 4 + p] ** 2;
      return v / (1.5 + (0.3 / 4) * sum) ** 0.75;
    });
    expect(relativeMaxError(got.data, want)).toBeLessThan(1e-5);
  });
});
