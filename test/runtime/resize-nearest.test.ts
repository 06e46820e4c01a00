// Nearest Resize's source placement (src/ops/resize.ts nearestIndices, which the float executor, the runtime, the C
// kernel and the TFLite export all read) against onnxruntime's, in every coordinate and rounding mode, up- and
// down-sampling; and the TFLite export's refusal of a placement no RESIZE_NEAREST_NEIGHBOR flags reproduce.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { tfliteBytes } from '../../src/export/tflite/index.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { NEAREST_COORDINATES, NEAREST_MODES, nearestIndices } from '../../src/ops/resize.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { OnnxNet, str } from '../helpers/onnx-net.js';
import { quantizeFixture } from '../helpers/quantize-fixture.js';

/** (input, output) lengths: ×2, ×8/3, odd growth, and two down-samplings. */
const SIZES: readonly [number, number][] = [[4, 8], [3, 8], [5, 7], [7, 3], [6, 4]];

const resizeNet = (inSize: number, outSize: number, coordinates: string, nearest: string): Uint8Array => {
  const n = new OnnxNet([1, 1, inSize, inSize]);
  const sizes = n.int64([1, 1, outSize, outSize]);
  return n.bytes(n.op('Resize', ['x', '', '', sizes], [str('mode', 'nearest'), str('coordinate_transformation_mode', coordinates), str('nearest_mode', nearest)]));
};

describe('nearest Resize placement', () => {
  it('equals onnxruntime\'s source rows and columns for every coordinate mode × nearest_mode × size', async () => {
    let compared = 0;
    for (const coordinates of NEAREST_COORDINATES)
      for (const nearest of NEAREST_MODES)
        for (const [inSize, outSize] of SIZES) {
          // Input value = its flat index, so each output names its source pixel.
          const x = Float32Array.from({ length: inSize * inSize }, (_, i) => i);
          // Severity 3: tf_half_pixel_for_nn is deprecated in opset 13 and onnxruntime says so for every session; it still runs it.
          const session = await ort.InferenceSession.create(resizeNet(inSize, outSize, coordinates, nearest), { logSeverityLevel: 3 });
          const y = (await session.run({ x: new ort.Tensor('float32', x, [1, 1, inSize, inSize]) })).y.data as Float32Array;
          await session.release();
          const want = nearestIndices(inSize, outSize, coordinates, nearest);
          const rows = Array.from({ length: outSize }, (_, o) => Math.floor(y[o * outSize] / inSize));
          const cols = Array.from({ length: outSize }, (_, o) => y[o] % inSize);
          expect({ coordinates, nearest, inSize, outSize, rows, cols }).toEqual({ coordinates, nearest, inSize, outSize, rows: [...want], cols: [...want] });
          compared++;
        }
    expect(compared).toBe(NEAREST_COORDINATES.length * NEAREST_MODES.length * SIZES.length);
  });

  it('TFLite export refuses half_pixel with floor (its ×2 placement [0,0,0,1,1,…] has no RESIZE_NEAREST_NEIGHBOR flags), naming the node and what to use', async () => {
    const n = new OnnxNet([1, 2, 4, 4]);
    const conv = n.conv('x', 2, 2, 1);
    const bytes = n.bytes(n.op('Resize', [conv, '', n.float32([1, 1, 2, 2])], [str('mode', 'nearest'), str('coordinate_transformation_mode', 'half_pixel'), str('nearest_mode', 'floor')]));
    const q = await quantizeFixture(optimizeGraph(importOnnx(bytes, 'up.onnx')), [2, 4, 4]);
    // The runtime runs it (a copy with onnxruntime's placement); only the TFLite file cannot say it.
    expect(createIntegerRuntime(q, 'onnx').run({ shape: [1, 2, 4, 4], data: new Int8Array(32) }).get('y')!.shape).toEqual([1, 2, 8, 8]);
    let error: unknown;
    try {
      tfliteBytes(q, { io: 'float' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlexqError);
    expect((error as FlexqError).code).toBe('UNSUPPORTED_ATTR');
    expect((error as FlexqError).message).toMatch(/node 'resize_\d+' \(Resize\): nearest Resize 'half_pixel' with nearest_mode 'floor' from \[1,2,4,4\] to \[1,2,8,8\].*RESIZE_NEAREST_NEIGHBOR.*use 'asymmetric' with 'floor'/);
  });

  it('a scale whose ⌊d·scale⌋ drops a fraction is refused at import, naming the node and what to give instead', () => {
    const n = new OnnxNet([1, 1, 5, 5]);
    const bytes = n.bytes(n.op('Resize', ['x', '', n.float32([1, 1, 1.5, 1.5])], [str('mode', 'nearest')]));
    expect(() => importOnnx(bytes, 'odd.onnx')).toThrow(/odd\.onnx: node 'resize_\d+' \(Resize\): scale 1\.5 on dim 2 of \[1,1,5,5\] gives 7, not an exact multiple; give the Resize 'sizes' instead of 'scales'/);
  });
});
