// TFLite export: the writer's bytes against a stored baseline, what the file holds (read back with flexq's own
// TFLite reader), and the errors for graphs TFLite cannot hold. The interpreters' side is test/targets/tflite.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tfliteBytes } from '../../src/export/tflite/index.js';
import { FlexqError } from '../../src/errors.js';
import { readTfliteModel } from '../../src/import/tflite/reader.js';
import { writeFq } from '../../src/quant/fq-file.js';
import type { ActivationQuant, QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { quantizeRtn } from '../../src/quant/rtn.js';
import { unitIntervalQuant } from '../../src/quant/schemes.js';
import { BuiltinOperator, TensorType } from '../../src/tflite/schema.js';
import { flexq } from '../helpers/cli.js';
import { floats, graphOf, int64s, node } from '../helpers/graphs.js';

const BASELINE = fileURLToPath(new URL('../fixtures/tiny-cnn.tflite', import.meta.url));
const grid = (scale: number, zeroPoint: number, bits = 8): ActivationQuant => ({
  scale: Math.fround(scale), zeroPoint, bits, qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1,
});

/** conv 3×3 (relu) → depthwise 3×3 (relu6) → add → global average pool → flatten → gemm → softmax, made by code. */
function tinyCnn(activationBits = 8): QuantizedGraph {
  const conv = { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] };
  const graph = graphOf(
    { name: 'x', shape: ['N', 3, 6, 6] },
    [floats('w1', [4, 3, 3, 3], 1), floats('b1', [4], 2), floats('w2', [4, 1, 3, 3], 3), floats('b2', [4], 4), floats('w3', [5, 4], 5), floats('b3', [5], 6), int64s('shape', [0, -1])],
    [
      node('Conv', ['x', 'w1', 'b1'], 'c1', { ...conv, group: 1, activation: 'relu' }),
      node('Conv', ['c1', 'w2', 'b2'], 'c2', { ...conv, group: 4, activation: 'relu6' }),
      node('Add', ['c1', 'c2'], 's'),
      node('GlobalAveragePool', ['s'], 'g'),
      node('Reshape', ['g', 'shape'], 'f'),
      node('Gemm', ['f', 'w3', 'b3'], 'logits', { transB: 1 }),
      node('Softmax', ['logits'], 'p', { axis: 1 }),
    ],
    ['p'],
  );
  // Zero points clamped into the grid's range (a no-op at 8 bits), so a narrower grid is still a sound graph.
  const a = (s: number, z: number) => grid(s, Math.min(Math.max(z, -(2 ** (activationBits - 1))), 2 ** (activationBits - 1) - 1), activationBits);
  const activations = new Map(Object.entries({
    x: a(0.02, 3), c1: a(0.03, -128), c2: a(0.025, -128), s: a(0.05, -100), g: a(0.04, -90), f: a(0.04, -90), logits: a(0.1, 7),
    p: activationBits === 8 ? unitIntervalQuant(8) : a(1 / 16, -8),
  }));
  const info = { flexqVersion: '0.1.0', method: 'rtn' as const, wbits: 8, abits: activationBits, seed: 0, model: 'tiny-cnn.onnx', calibrationSamples: 0 };
  return quantizeRtn({ ...graph, source: 'tiny-cnn.onnx' }, activations, { wbits: 8, edgeBits: 8 }, info);
}

/** The FlexqError that `run` throws, with its code and every fragment in its message. */
function expectError(run: () => unknown, code: string, ...fragments: string[]): void {
  expect(run).toThrow(FlexqError);
  const message = (() => {
    try {
      run();
    } catch (e) {
      expect((e as FlexqError).code).toBe(code);
      return (e as Error).message;
    }
  })();
  for (const f of fragments) expect(message).toContain(f);
}

describe('TFLite writer', () => {
  it('writes the stored baseline byte for byte (FLEXQ_UPDATE_BASELINES=1 rewrites it)', () => {
    const bytes = tfliteBytes(tinyCnn(), { io: 'float' });
    if (process.env.FLEXQ_UPDATE_BASELINES === '1') writeFileSync(BASELINE, bytes);
    const stored = new Uint8Array(readFileSync(BASELINE));
    expect(bytes.length).toBe(stored.length);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(stored))).toBe(0);
    expect(tfliteBytes(tinyCnn(), { io: 'float' })).toEqual(bytes); // deterministic
  });

  it('holds the quantized graph: NHWC tensors, OHWI / 1HWO filters, per-tensor grids, int32 biases, metadata', () => {
    const q = tinyCnn();
    const m = readTfliteModel(tfliteBytes(q, { io: 'float' }), 'tiny-cnn.tflite');
    const sg = m.subgraphs[0];
    const codes = sg.operators.map((o) => m.operatorCodes[o.opcodeIndex].builtinCode);
    const B = BuiltinOperator;
    expect(codes).toEqual([B.QUANTIZE, B.CONV_2D, B.DEPTHWISE_CONV_2D, B.ADD, B.MEAN, B.RESHAPE, B.FULLY_CONNECTED, B.SOFTMAX, B.DEQUANTIZE]);
    const tensor = (name: string) => sg.tensors.find((t) => t.name === name)!;
    expect(sg.tensors[sg.inputs[0]]).toMatchObject({ type: TensorType.FLOAT32, shape: [1, 6, 6, 3] });
    expect(sg.tensors[sg.outputs[0]]).toMatchObject({ type: TensorType.FLOAT32, shape: [1, 5] });
    for (const [name, g] of q.activations) expect(tensor(name).quantization).toMatchObject({ scale: [g.scale], zeroPoint: [g.zeroPoint] });
    expect(tensor('c1')).toMatchObject({ type: TensorType.INT8, shape: [1, 6, 6, 4] });
    expect(tensor('g').shape).toEqual([1, 1, 1, 4]);
    // OHWI: filter[o][ky][kx][c] = w[o][c][ky][kx]
    const w1 = q.weights.get('w1')!;
    const ohwi = new Int8Array(m.buffers[tensor('w1').buffer].data.slice().buffer);
    expect(tensor('w1')).toMatchObject({ type: TensorType.INT8, shape: [4, 3, 3, 3] });
    for (const [o, c, y, x] of [[0, 0, 0, 0], [3, 2, 1, 2], [1, 1, 2, 0]]) expect(ohwi[((o * 3 + y) * 3 + x) * 3 + c]).toBe(w1.values[((o * 3 + c) * 3 + y) * 3 + x]);
    // 1HWO: filter[0][ky][kx][m] = w[m][0][ky][kx]
    const w2 = q.weights.get('w2')!;
    const hwo = new Int8Array(m.buffers[tensor('w2').buffer].data.slice().buffer);
    expect(tensor('w2').shape).toEqual([1, 3, 3, 4]);
    for (const [o, y, x] of [[0, 0, 0], [3, 2, 1], [2, 1, 2]]) expect(hwo[(y * 3 + x) * 4 + o]).toBe(w2.values[(o * 3 + y) * 3 + x]);
    const b1 = q.biases.get('b1')!;
    expect(tensor('b1')).toMatchObject({ type: TensorType.INT32, quantization: { scale: [b1.scale], zeroPoint: [0] } });
    expect(new Int32Array(m.buffers[tensor('b1').buffer].data.slice().buffer)).toEqual(b1.values);
    expect(m.description).toBe('flexq 0.1.0: rtn W8A8, per-tensor int8, from tiny-cnn.onnx');
    const meta = m.metadata.find((x) => x.name === 'flexq')!;
    expect(JSON.parse(new TextDecoder().decode(m.buffers[meta.buffer].data))).toMatchObject({ flexqVersion: '0.1.0', method: 'rtn', wbits: 8, abits: 8 });
    for (const t of sg.tensors) if (t.buffer > 0) expect(m.buffers[t.buffer].data.byteOffset % 16).toBe(0);
  });

  it('io int8 keeps the int8 tensors as the model input and output; weights computed put each behind a RESHAPE', () => {
    const q = tinyCnn();
    const int8 = readTfliteModel(tfliteBytes(q, { io: 'int8' }), 'int8.tflite').subgraphs[0];
    expect(int8.tensors[int8.inputs[0]]).toMatchObject({ name: 'x', type: TensorType.INT8 });
    expect(int8.tensors[int8.outputs[0]]).toMatchObject({ name: 'p', type: TensorType.INT8 });
    const m = readTfliteModel(tfliteBytes(q, { io: 'float', weights: 'computed' }), 'computed.tflite');
    const sg = m.subgraphs[0];
    const conv = sg.operators.find((o) => m.operatorCodes[o.opcodeIndex].builtinCode === BuiltinOperator.CONV_2D)!;
    const filter = sg.tensors[conv.inputs[1]];
    expect(filter.buffer).toBe(0);
    const producer = sg.operators.find((o) => o.outputs.includes(conv.inputs[1]))!;
    expect(m.operatorCodes[producer.opcodeIndex].builtinCode).toBe(BuiltinOperator.RESHAPE);
  });

  it('names the node when an op has no TFLite builtin, and the activation when its bit width does not fit int8', () => {
    const q = tinyCnn();
    const nodes = q.graph.nodes.map((n) => (n.name === 's' ? { ...n, op: 'LeakyRelu' } : n));
    expectError(() => tfliteBytes({ ...q, graph: { ...q.graph, nodes } }, { io: 'float' }), 'UNSUPPORTED_OP', "node 's' (LeakyRelu)", 'no TFLite builtin');
    expectError(() => tfliteBytes(tinyCnn(4), { io: 'float' }), 'UNSUPPORTED_ATTR', "activation 'x'", '4 bits', '--abits 8');
    expectError(() => tfliteBytes({ ...q, activations: new Map() }, { io: 'float' }), 'UNSUPPORTED_ATTR', 'float', '--abits 8');
    const clip = q.graph.nodes.map((n) => (n.name === 's' ? { ...n, op: 'Clip', inputs: ['c1'], attrs: { min: 0, max: 4 } } : n));
    expectError(() => tfliteBytes({ ...q, graph: { ...q.graph, nodes: clip } }, { io: 'float' }), 'UNSUPPORTED_ATTR', "node 's' (Clip)", 'RELU6');
  });

  it('flexq export --format tflite writes the file, and writes nothing on an error (exit 1, the message names the tensor)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexq-tflite-'));
    try {
      writeFq(join(dir, 'tiny.fq'), tinyCnn());
      const ok = await flexq('export', join(dir, 'tiny.fq'), '--format', 'tflite', '-o', join(dir, 'tiny.tflite'), '--json');
      expect(ok.code).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, 'tiny.tflite')))).toEqual(tfliteBytes(tinyCnn(), { io: 'float' }));
      writeFq(join(dir, 'a4.fq'), tinyCnn(4));
      const bad = await flexq('export', join(dir, 'a4.fq'), '--format', 'tflite', '-o', join(dir, 'a4.tflite'));
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("activation 'x' is quantized to 4 bits");
      expect(existsSync(join(dir, 'a4.tflite'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
