// The graph input's QUANTIZE in LiteRT.js on both CPU paths against the runtime's quantizeInput in the matching mode
// (runtime/quantize-input.ts quantizeGraphInput): XNNPACK's rne(fp32(x · fp32(1/s))) + z. The floats sit next to the
// grid's half-points, where the rounding rules part: on the grid 2/255 that ppocr-cls and BlazeFace inputs
// (pixel/127.5 − 1) get from full-range calibration, every input is such a tie.
import { describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { quantizeTensor } from '../../../runtime/quantize-input.js';
import { tfliteBytes } from '../../../src/export/tflite/index.js';
import { quantizeRtn } from '../../../src/quant/rtn.js';
import { openLiteRt } from '../../../targets/tflite/litert.js';
import { floats, graphOf, node } from '../../helpers/graphs.js';
import { grid } from './op-cases.js';

const INPUT = grid(2 / 255, -1);
const SAMPLE = [3, 16, 16];

/** Float32 neighbours (±8 ulps) of (n + ½)·s for n across the grid, one sample's worth. */
function nearHalfPoints(): Float32Array {
  const size = SAMPLE.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const bits = new Uint32Array(out.buffer);
  const one = new Float32Array(1);
  const oneBits = new Uint32Array(one.buffer);
  for (let k = 0; k < size; k++) {
    one[0] = (((k >> 4) % 250) - 125 + 0.5) * INPUT.scale;
    bits[k] = oneBits[0] + (k % 16) - 8;
  }
  return out;
}

describe('LiteRT.js QUANTIZE of the graph input', () => {
  it("tflite-xnnpack and tflite-builtin: the runtime's quantizeInput bytes on floats next to half-points (both export paths)", async () => {
    const graph = graphOf({ name: 'x', shape: ['N', ...SAMPLE] }, [floats('w', [4, 3, 1, 1], 5)], [node('Conv', ['x', 'w', ''], 'y', { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 })], ['y']);
    const info = { flexqVersion: 'test', method: 'rtn' as const, wbits: 8, abits: 8, seed: 0, model: 'quantize-input.onnx', calibrationSamples: 0 };
    const q = quantizeRtn({ ...graph, source: 'quantize-input' }, new Map([['x', INPUT], ['y', grid(0.05, 3)]]), { wbits: 8, edgeBits: 8 }, info);
    const xs = nearHalfPoints();
    const differing: Record<string, number> = {};
    for (const [mode, weights] of [['tflite-xnnpack', 'constant'], ['tflite-builtin', 'computed']] as const) {
      const want = createIntegerRuntime(q, mode).quantizeInput(xs);
      const interpreter = await openLiteRt(tfliteBytes(q, { io: 'float', weights, extraOutputs: ['x'] }), 'quantize-input');
      // The values, not their layout, matter here: the int8 input comes back in the order it went in.
      const ys = await interpreter.run(xs);
      interpreter.dispose();
      const got = Int8Array.from(ys.at(-1)!, (v) => Math.round(v / INPUT.scale) + INPUT.zeroPoint);
      differing[mode] = got.reduce((n, v, i) => n + (v === want[i] ? 0 : 1), 0);
      // TFLite's reference rule (half away from zero, x / s) misses some of them (measured: 24 of 768).
      const halfAway = quantizeTensor(mode, INPUT, xs);
      differing[`${mode}, half away`] = got.reduce((n, v, i) => n + (v === halfAway[i] ? 0 : 1), 0);
    }
    expect(differing['tflite-xnnpack']).toBe(0);
    expect(differing['tflite-builtin']).toBe(0);
    expect(differing['tflite-xnnpack, half away']).toBeGreaterThan(10);
  });
});
