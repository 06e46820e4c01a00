// onnx-mode kernels against what onnxruntime fuses a QDQ pattern into, on random int8 data, in both onnxruntime-node
// and onnxruntime-web: here QLinearSoftmax (DQ → Softmax → Q), whose table, float32 sum and clamp the runtime copies.
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { ortSoftmax, ortSoftmaxTable } from '../../runtime/kernels/softmax.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { loadOrt, ORT_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';

const { onnx } = pkg;
const SOFTMAX_GRID: ActivationQuant = { scale: 1 / 256, zeroPoint: -128, bits: 8, qmin: -128, qmax: 127 };

function scalar(name: string, float: boolean, v: number): pkg.onnx.ITensorProto {
  return { name, dataType: float ? 1 : 3, dims: [], rawData: new Uint8Array((float ? Float32Array.of(v) : Int8Array.of(v)).buffer) };
}
function int8Info(name: string, dims: number[]): pkg.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: 3, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** DQ(X; sx, zx) → Softmax(axis −1) → Q(1/256, −128) as an encoded model. */
function qdqSoftmax(rows: number, length: number, sx: number, zx: number): Uint8Array {
  const graph: pkg.onnx.IGraphProto = {
    name: 'softmax',
    input: [int8Info('X', [rows, length])],
    output: [int8Info('Y', [rows, length])],
    initializer: [scalar('sx', true, sx), scalar('zx', false, zx), scalar('sy', true, SOFTMAX_GRID.scale), scalar('zy', false, SOFTMAX_GRID.zeroPoint)],
    node: [
      { opType: 'DequantizeLinear', input: ['X', 'sx', 'zx'], output: ['x'] },
      { opType: 'Softmax', input: ['x'], output: ['y'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] },
      { opType: 'QuantizeLinear', input: ['y', 'sy', 'zy'], output: ['Y'] },
    ],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

describe('onnx-mode Softmax is bit-exact with QLinearSoftmax in onnxruntime-node and -web', () => {
  it('random int8 slices of 3, 10, 12 and 1000 values over input scales 2^-7 … 1', async () => {
    let seed = 17;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const [node, web] = [await loadOrt('node'), await loadOrt('web')];
    let compared = 0;
    for (let t = 0; t < 16; t++) {
      const length = [3, 10, 12, 1000][t % 4];
      const rows = Math.ceil(100_000 / length);
      const sx = Math.fround(2 ** (-7 + 7 * random()));
      const zx = Math.floor(random() * 256) - 128;
      const x = Int8Array.from({ length: rows * length }, () => Math.floor(random() * 256) - 128);
      const want = new Int8Array(x.length);
      ortSoftmax({ outer: 1, length, inner: 1 }, ortSoftmaxTable(sx, length), SOFTMAX_GRID, x, rows, want);
      for (const ort of [node, web]) {
        const session = await ort.InferenceSession.create(qdqSoftmax(rows, length, sx, zx), ORT_SESSION_OPTIONS);
        const feeds = { X: new (ort.Tensor as unknown as new (t: 'int8', d: Int8Array, dims: number[]) => unknown)('int8', x, [rows, length]) };
        const got = (await session.run(feeds as never)).Y.data as Int8Array;
        await session.release();
        expect(got).toEqual(want);
        compared += got.length;
      }
    }
    expect(compared).toBeGreaterThan(3_000_000);
  });
});
