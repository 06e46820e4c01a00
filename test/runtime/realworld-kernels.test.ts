// The integer kernels of the MediaPipe models' data-movement and up-sampling ops: Pad, Transpose, Resize
// (bilinear) and ConvTranspose, against independent references (onnxruntime-node for the onnx-mode Resize).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convTranspose2d, type PreparedConvTranspose } from '../../runtime/kernels/conv-transpose.js';
import { climb, staircase } from '../../runtime/kernels/gemm.js';
import { padSources } from '../../runtime/kernels/pad.js';
import { gatherCopy } from '../../runtime/kernels/reshape.js';
import { onnxAxis, resizeDequantized, resizeTflite, tfliteAxis, type ResizeCoordinates } from '../../runtime/kernels/resize.js';
import { transposeSources } from '../../runtime/kernels/transpose.js';
import { gridQuantizer } from '../../runtime/quantize-input.js';
import { prepareRequantizer } from '../../runtime/requant/index.js';
import { transposeConst } from '../../src/ops/transpose.js';
import { encodeModel, rawTensor, valueInfo, ONNX_TYPE } from '../../src/onnx-writer.js';
import { mulberry32 } from '../../src/random.js';

const int8s = (seed: number, n: number): Int8Array => {
  const r = mulberry32(seed);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
};

describe('Pad and Transpose: integers moved, never changed', () => {
  it('transposeSources gathers what transposeConst permutes', () => {
    const shape = [3, 4, 5];
    const x = int8s(1, 60);
    for (const perm of [[1, 2, 0], [2, 0, 1], [0, 2, 1]]) {
      const y = new Int8Array(60);
      gatherCopy(transposeSources(shape, perm), 60, 0, x, 1, y);
      expect(Array.from(y)).toEqual(Array.from(transposeConst({ dtype: 'int8', shape, data: x }, perm).data as Int8Array));
    }
  });

  it('padSources puts the input inside and the fill in the border (BlazeFace pads channels 24 → 48)', () => {
    const [c, h, w] = [2, 3, 2];
    const x = int8s(2, c * h * w);
    const y = new Int8Array((c + 2) * (h + 1) * w);
    gatherCopy(padSources([c, h, w], [0, 1, 0], [2, 0, 0]), c * h * w, -7, x, 1, y);
    for (let k = 0; k < c + 2; k++)
      for (let i = 0; i < h + 1; i++)
        for (let j = 0; j < w; j++) {
          const inside = k < c && i >= 1;
          expect(y[(k * (h + 1) + i) * w + j]).toBe(inside ? x[(k * h + i - 1) * w + j] : -7);
        }
  });
});

/** onnxruntime-node on DequantizeLinear → Resize (linear) → QuantizeLinear, int8, NCHW [1, c, h, w] → [1, c, oh, ow]. */
async function ortResize(x: Int8Array, shape: number[], out: number[], coordinates: ResizeCoordinates, scale: number, zeroPoint: number): Promise<Int8Array> {
  const graph = {
    name: 'resize',
    node: [
      { opType: 'DequantizeLinear', input: ['x', 's', 'z'], output: ['xf'] },
      { opType: 'Resize', input: ['xf', '', '', 'sizes'], output: ['yf'], attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('linear') }, { name: 'coordinate_transformation_mode', type: 3, s: new TextEncoder().encode(coordinates) }] },
      { opType: 'QuantizeLinear', input: ['yf', 's', 'z'], output: ['y'] },
    ],
    initializer: [
      rawTensor('s', 'float32', [], Float32Array.of(scale)),
      rawTensor('z', 'int8', [], Int8Array.of(zeroPoint)),
      rawTensor('sizes', 'int64', [4], BigInt64Array.from(out, BigInt)),
    ],
    input: [valueInfo('x', ONNX_TYPE.int8, shape)],
    output: [valueInfo('y', ONNX_TYPE.int8, out)],
  };
  const session = await ort.InferenceSession.create(encodeModel(graph, { opset: 13 }));
  const r = await session.run({ x: new ort.Tensor('int8', x, shape) });
  await session.release();
  return r.y.data as Int8Array;
}

describe('Resize, bilinear', () => {
  const cases: { shape: number[]; out: number[]; coordinates: ResizeCoordinates }[] = [
    { shape: [1, 3, 8, 8], out: [1, 3, 16, 16], coordinates: 'half_pixel' },
    { shape: [1, 2, 5, 7], out: [1, 2, 10, 14], coordinates: 'align_corners' },
    { shape: [1, 2, 6, 4], out: [1, 2, 12, 8], coordinates: 'asymmetric' },
  ];
  for (const c of cases)
    it(`onnx mode: the same bytes as onnxruntime's DequantizeLinear → Resize → QuantizeLinear (${c.coordinates}, ${c.shape.slice(2).join('×')} → ${c.out.slice(2).join('×')})`, async () => {
      const [, ch, h, w] = c.shape;
      const [, , oh, ow] = c.out;
      const x = int8s(oh + ow, ch * h * w);
      const scale = Math.fround(0.0371);
      const zeroPoint = -9;
      const grid = { scale, zeroPoint, bits: 8, qmin: -128, qmax: 127 };
      const plan = { channels: ch, inHeight: h, inWidth: w, rows: onnxAxis(h, oh, c.coordinates), cols: onnxAxis(w, ow, c.coordinates) };
      const ours = new Int8Array(ch * oh * ow);
      resizeDequantized(plan, zeroPoint, scale, gridQuantizer('onnx', grid), x, 1, ours);
      const theirs = await ortResize(x, c.shape, c.out, c.coordinates, scale, zeroPoint);
      expect(ours.filter((v, i) => v !== theirs[i]).length).toBe(0);
    });

  it('tflite modes: TFLite\'s 10-bit fixed point, within half a step of the exact interpolation, and exact on 2× of a ramp', () => {
    const [ch, h, w, oh, ow] = [2, 6, 5, 12, 10];
    const x = int8s(5, ch * h * w);
    for (const single of [false, true]) {
      const plan = { channels: ch, inHeight: h, inWidth: w, rows: tfliteAxis(h, oh, 'half_pixel'), cols: tfliteAxis(w, ow, 'half_pixel') };
      const y = new Int8Array(ch * oh * ow);
      resizeTflite(plan, single, x, 1, y);
      // The exact interpolation: the fp32 path on scale 1, zero point 0, its values caught before any rounding.
      const exact = { channels: ch, inHeight: h, inWidth: w, rows: onnxAxis(h, oh, 'half_pixel'), cols: onnxAxis(w, ow, 'half_pixel') };
      const values: number[] = [];
      resizeDequantized(exact, 0, 1, (v) => (values.push(v), 0), x, 1, new Int8Array(ch * oh * ow));
      values.forEach((v, i) => expect(Math.abs(y[i] - v)).toBeLessThanOrEqual(0.5));
    }
    // A ramp 0, 4, 8, … up-sampled 2× with half-pixel centres: interior values 1, 3, 5, … exactly (quarter weights).
    const ramp = Int8Array.from({ length: 8 }, (_, i) => 4 * i);
    const up = new Int8Array(16);
    resizeTflite({ channels: 1, inHeight: 1, inWidth: 8, rows: tfliteAxis(1, 1, 'half_pixel'), cols: tfliteAxis(8, 16, 'half_pixel') }, true, ramp, 1, up);
    expect(Array.from(up)).toEqual([0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 28]);
  });
});

describe('ConvTranspose: int32 scatter of every tap, then the mode\'s requantization', () => {
  it('equals a gather over output pixels (MediaPipe\'s 2×2 stride-2 decoder head, and a 3×3 stride 2 with crops)', () => {
    for (const [k, s, pads] of [[2, 2, [0, 0, 0, 0]], [3, 2, [1, 1, 0, 0]]] as const) {
      const [c, m, h, w] = [3, 2, 4, 5];
      const [oh, ow] = [s * (h - 1) + k - pads[0] - pads[2], s * (w - 1) + k - pads[1] - pads[3]];
      const x = int8s(11, c * h * w);
      const wq = int8s(12, c * m * k * k);
      const bias = Int32Array.of(1234, -777);
      const rq = prepareRequantizer('tflite-double', { inputScale: 0.02, weightScale: 0.005, outputScale: 0.03, zeroPoint: 3, min: -128, max: 127 });
      const p: PreparedConvTranspose = {
        inputShape: [c, h, w], outputShape: [m, oh, ow],
        window: { kernel: [k, k], strides: [s, s], pads: [...pads], dilations: [1, 1] },
        inputZeroPoint: -5, weights: Int16Array.from(wq), bias, requantizer: staircase(rq, 1 << 24), acc: new Int32Array(m * oh * ow),
      };
      const y = new Int8Array(m * oh * ow);
      convTranspose2d(p, x, 1, y);
      for (let o = 0; o < m; o++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            let acc = bias[o];
            for (let ci = 0; ci < c; ci++)
              for (let ky = 0; ky < k; ky++)
                for (let kx = 0; kx < k; kx++) {
                  const [ty, tx] = [oy + pads[0] - ky, ox + pads[1] - kx];
                  if (ty % s !== 0 || tx % s !== 0 || ty < 0 || tx < 0 || ty / s >= h || tx / s >= w) continue;
                  acc += (x[(ci * h + ty / s) * w + tx / s] + 5) * wq[((ci * m + o) * k + ky) * k + kx];
                }
            expect(y[(o * oh + oy) * ow + ox]).toBe(rq.apply(acc));
          }
      expect(climb(p.requantizer, 0)).toBe(rq.apply(0));
    }
  });
});
