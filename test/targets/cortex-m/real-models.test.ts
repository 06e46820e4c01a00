// compile for the Cortex-M7 (mps2-an500: 4 MiB of data RAM, which Selfie Segmentation's 0.9 MiB arena needs) of the
// three real-world models whose ops the classifiers lack: ppocr-cls (squeeze-excite Mul, HardSigmoid, HardSwish),
// Selfie Segmentation (Mul, bilinear Resize, ConvTranspose, Sigmoid) and BlazeFace (Pad, Transpose, Concat, two
// outputs). W8A8 RTN calibrated on 2 photos, proven on 2 others in QEMU: every output byte equals the runtime's.
// Few inputs, to stay fast: the mcu bench and `flexq compile --check N` prove on more.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../../src/index.js';
import { readFq } from '../../../src/quant/fq-file.js';
import { openDataset } from '../../../calibration/index.js';
import { createIntegerRuntime, dequantize } from '../../../runtime/executor.js';
import { qemuExecutor } from '../../../targets/cortex-m/executor.js';
import { C_REQUANT_MODE } from '../../../targets/cortex-m/lower.js';
import { data, model } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';

const out = mkdtempSync(join(tmpdir(), 'flexq-real-models-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const PHOTOS = data('imagenet-sample');

const CASES = [
  // ppocr-cls's preprocessing, (pixel/255 − 0.5)/0.5, is the face preset's −1..1, resized to the given 48×192.
  { name: 'ppocr-cls', file: 'ppocr-cls/model.onnx', preprocess: 'mediapipe-face', inputShape: [1, 3, 48, 192] },
  { name: 'Selfie Segmentation', file: 'mediapipe-selfie-segmentation/model.tflite', preprocess: 'mediapipe-selfie' },
  { name: 'BlazeFace', file: 'mediapipe-face-detection/model.tflite', preprocess: 'mediapipe-face' },
] as const;

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('compile --target cortex-m7 of real-world models', () => {
  for (const c of CASES) {
    it(`${c.name}: builds, runs in QEMU, bit-exact with the integer runtime on every output`, async () => {
      const folder = join(out, c.name);
      const r = await compile(model(c.file), {
        calib: PHOTOS, limit: 2, check: 2, preprocess: c.preprocess, method: 'rtn', wbits: 8, abits: 8, seed: 0, batch: 2,
        target: 'cortex-m7', output: folder, ...('inputShape' in c ? { inputShape: [...c.inputShape] } : {}),
      });
      expect(r.report).toMatchObject({ bitExact: true, checked: 2, mismatchedBytes: 0 });
      expect(r.proof).toMatchObject({ offset: 2, count: 2, calibrationData: false });
      // None of them has a TFLite builtin for every op yet (HardSigmoid, Resize, ConvTranspose, Transpose): no .tflite.
      expect(r.files.some((f) => f.endsWith('model.tflite'))).toBe(false);
      expect(r.summary).toContain('model.tflite not written');
    });
  }

  it('BlazeFace: model.h lays the two outputs back to back; the qemu-m7 executor returns each on its grid', async () => {
    const folder = join(out, 'BlazeFace');
    const header = readFileSync(join(folder, 'c', 'model.h'), 'utf8');
    expect(header).toContain('#define FLEXQ_MODEL_OUTPUT_COUNT 2');
    expect(header).toContain(`#define FLEXQ_MODEL_OUTPUT_SIZE ${896 * 16 + 896}`);
    expect(header).toContain('#define FLEXQ_MODEL_OUTPUT1_OFFSET 14336');
    const q = readFq(join(folder, 'model.fq'));
    const ds = await openDataset({ path: PHOTOS, preprocess: 'mediapipe-face', offset: 2, limit: 2, sampleShape: [3, 128, 128] });
    let floats = new Float32Array(0);
    for await (const b of ds.batches(2)) floats = b.data.slice();
    const shape = [2, 3, 128, 128];
    const executor = await qemuExecutor('cortex-m7')(q, { mode: C_REQUANT_MODE });
    const got = await executor.run({ shape, data: floats });
    const runtime = createIntegerRuntime(q, C_REQUANT_MODE);
    const want = runtime.run({ shape, data: runtime.quantizeInput(floats) });
    expect([...got.keys()]).toEqual(['regressors', 'classificators']);
    for (const name of q.graph.outputs) {
      const w = want.get(name)!;
      expect(got.get(name)!.shape).toEqual([2, ...w.shape.slice(1)]);
      expect(got.get(name)!.data).toEqual(dequantize({ shape: w.shape, data: w.data, quant: q.activations.get(name)! }));
    }
  });
});
