// onnx-mode kernels against what onnxruntime fuses a QDQ pattern into, on random int8 data, in both onnxruntime-node
// and onnxruntime-web: QLinearSoftmax (DQ → Softmax → Q), whose table, float32 sum and clamp the runtime copies; and
// the QDQ export's Mul in every flavour, over every operand pair.
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { mulElement } from '../../runtime/kernels/mul.js';
import { ortSoftmax, ortSoftmaxTable } from '../../runtime/kernels/softmax.js';
import { buildQdqModel, hasUint8Activations, QDQ_FLAVOURS } from '../../src/export/onnx-qdq.js';
import { buildGraph } from '../../src/ir/build.js';
import type { ActivationQuant, QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { mulberry32 } from '../../src/random.js';
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

/** y = a · b with a [1,256,256] and a squeeze-excite operand b [1,256,1], on the given grids, as a QuantizedGraph. */
function mulGraph(a: ActivationQuant, b: ActivationQuant, y: ActivationQuant): QuantizedGraph {
  const graph = buildGraph({
    name: 'mul', source: 'mul', constants: [], outputs: ['y'],
    inputs: [{ name: 'a', dtype: 'float32', shape: [1, 256, 256] }, { name: 'b', dtype: 'float32', shape: [1, 256, 1] }],
    nodes: [{ name: 'mul', op: 'Mul', inputs: ['a', 'b'], outputs: ['y'], attrs: {} }],
  });
  const info = { flexqVersion: 'test', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: 'mul', calibrationSamples: 0 } as const;
  return { graph, activations: new Map([['a', a], ['b', b], ['y', y]]), weights: new Map(), biases: new Map(), info };
}

describe('the QDQ export\'s Mul is bit-exact with the onnx-mode Mul in every flavour, in onnxruntime-node and -web', () => {
  it('every int8 operand pair (a[i, j] = j, b[i] = i) on ppocr-cls\'s SE Mul grids and 3 random grid triples', async () => {
    const r = mulberry32(41);
    const grid = (scale: number, zeroPoint: number): ActivationQuant => ({ scale: Math.fround(scale), zeroPoint, bits: 8, qmin: -128, qmax: 127 });
    const zp = () => Math.floor(r() * 256) - 128;
    const a = Int8Array.from({ length: 65536 }, (_, k) => (k % 256) - 128);
    const b = Int8Array.from({ length: 256 }, (_, k) => k - 128);
    const [node, web] = [await loadOrt('node'), await loadOrt('web')];
    const Tensor = (ort: typeof node) => ort.Tensor as unknown as new (t: 'int8' | 'uint8', d: Int8Array | Uint8Array, dims: number[]) => unknown;
    const differing: string[] = [];
    // ppocr-cls's 'p2o.Mul.38' (RTN, 7-bit weights, 8 photos): acc 17877 gives 114.50000763 + zp −110; uint8 QLinearMul
    // adds zp + 128 = 18, rounds 132.50000763 to the float 132.5 and then to 132 (4, not 5), for 2 of the 65,536 pairs.
    const ppocr = [grid(0.029920723289251328, -115), grid(0.00390625, -128), grid(0.01824825070798397, -110)];
    for (let t = 0; t < 4; t++) {
      const [ga, gb] = t === 0 ? ppocr : [grid(2 ** (-5 + 4 * r()), zp()), grid(2 ** (-5 + 4 * r()), zp())];
      const gy = t === 0 ? ppocr[2] : grid(ga.scale * gb.scale * 2 ** (5 + 3 * r()), zp());
      const element = mulElement('onnx', ga, gb, gy);
      const want = Int8Array.from(a, (qa, k) => element(qa, b[k >> 8]));
      for (const flavour of QDQ_FLAVOURS) {
        const u8 = hasUint8Activations(flavour);
        const feed = (x: Int8Array, dims: number[]) => (u8 ? new (Tensor(node))('uint8', Uint8Array.from(x, (v) => v + 128), dims) : new (Tensor(node))('int8', x, dims));
        const model = buildQdqModel(mulGraph(ga, gb, gy), { io: 'int8', flavour });
        for (const [kind, ort] of [['node', node], ['web', web]] as const) {
          const session = await ort.InferenceSession.create(model, ORT_SESSION_OPTIONS);
          const y = (await session.run({ a: feed(a, [1, 256, 256]), b: feed(b, [1, 256, 1]) } as never)).y.data as Int8Array | Uint8Array;
          await session.release();
          const got = Int8Array.from(y, (v) => (u8 ? v - 128 : v));
          const n = got.reduce((c, v, k) => c + (v === want[k] ? 0 : 1), 0);
          if (n) differing.push(`grids ${t}, ${flavour} in ort-${kind}: ${n}`);
        }
      }
    }
    expect(differing).toEqual([]);
  });
});
