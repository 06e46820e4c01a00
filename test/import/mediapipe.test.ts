// MediaPipe's browser models (Selfie Segmentation: RESIZE_BILINEAR and the custom Convolution2DTransposeBias;
// BlazeFace: channel PAD, two outputs) through the TFLite importer and the float executor, against LiteRT.js
// running the original .tflite on the same real photos.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDataset, type Preprocess } from '../../calibration/index.js';
import { readAllSamples } from '../../src/api/data.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import { NCHW_TO_NHWC } from '../../src/ir/layout.js';
import { loadModel } from '../../src/load-model.js';
import { importModel } from '../../src/api/import.js';
import { transposeConst } from '../../src/ops/transpose.js';
import { openLiteRt } from '../../targets/tflite/litert.js';
import { data, model } from '../helpers/shared.js';

const PHOTOS = 6;

const CASES: readonly { name: string; file: string; preprocess: Preprocess; ops: readonly string[] }[] = [
  { name: 'Selfie Segmentation', file: model('mediapipe-selfie-segmentation/model.tflite'), preprocess: 'mediapipe-selfie', ops: ['Resize', 'ConvTranspose'] },
  { name: 'BlazeFace', file: model('mediapipe-face-detection/model.tflite'), preprocess: 'mediapipe-face', ops: ['Pad', 'Concat'] },
];

describe('Selfie Segmentation inspected', () => {
  it('imports RESIZE_BILINEAR and the custom transposed conv: ops, shapes, and weights only as parameters', () => {
    const { summary } = importModel(model('mediapipe-selfie-segmentation/model.tflite'));
    expect(summary.ops).toMatchObject({ Conv: 54, Resize: 3, ConvTranspose: 1, HardSwish: 11, Mul: 10 });
    const resizes = summary.layers.filter((l) => l.op === 'Resize');
    expect(resizes.map((l) => l.output)).toEqual([['N', 128, 32, 32], ['N', 24, 64, 64], ['N', 16, 128, 128]]);
    expect(resizes.every((l) => l.params === 0)).toBe(true);
    // MediaPipe's 2×2 stride-2 head with SAME padding: [N,16,128,128] → [N,1,256,256], 16·4 weights + 1 bias.
    const head = summary.layers.find((l) => l.op === 'ConvTranspose')!;
    expect([head.output, head.params, head.attrs.pads]).toEqual([['N', 1, 256, 256], 65, [0, 0, 0, 0]]);
  });
});

for (const c of CASES)
  describe(`${c.name} float, imported from TFLite`, () => {
    it(`matches LiteRT.js's float run of the .tflite on ${PHOTOS} photos (max |err| ≤ 5e-4, mean ≤ 1e-5 of the output range)`, async () => {
      const { graph } = loadModel(c.file);
      expect(c.ops.every((op) => graph.nodes.some((n) => n.op === op))).toBe(true);
      const sample = graph.values.get(graph.inputs[0])!.shape.slice(1) as number[];
      const photos = await openDataset({ path: data('imagenet-sample'), preprocess: c.preprocess, sampleShape: sample, limit: PHOTOS });
      const all = await readAllSamples(photos);
      const executor = await createFloatExecutor(graph);
      const litert = await openLiteRt(readFileSync(c.file), c.file);
      const size = all.length / PHOTOS;
      try {
        for (let i = 0; i < PHOTOS; i++) {
          const nchw = { dtype: 'float32' as const, shape: [1, ...sample], data: all.slice(i * size, (i + 1) * size) };
          const ours = executor.run({ [graph.inputs[0]]: { shape: nchw.shape, data: nchw.data } });
          const theirs = await litert.run(transposeConst(nchw, NCHW_TO_NHWC).data as Float32Array);
          graph.outputs.forEach((name, k) => {
            // The outputs are [1,1,256,256] (one channel: NCHW and NHWC agree) or rank 3: the same element order.
            const a = ours.get(name)!.data;
            const b = theirs[k];
            expect(a.length).toBe(b.length);
            let range = 0;
            let err = 0;
            let sum = 0;
            for (let j = 0; j < b.length; j++) {
              range = Math.max(range, Math.abs(b[j]));
              err = Math.max(err, Math.abs(a[j] - b[j]));
              sum += Math.abs(a[j] - b[j]);
            }
            // fp32 sums in another order (XNNPACK vs TensorFlow.js) over ~60 layers: a wrong coordinate mode or crop would be 1e-2 and up.
            expect(err / range, `${name} of photo ${i}`).toBeLessThanOrEqual(5e-4);
            expect(sum / b.length / range, `${name} of photo ${i}`).toBeLessThanOrEqual(1e-5);
          });
        }
      } finally {
        executor.dispose?.();
        litert.dispose();
      }
    });
  });
