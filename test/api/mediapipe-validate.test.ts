// Selfie Segmentation and BlazeFace quantized from a folder of ordinary photos (the MediaPipe presets resize them),
// run in the integer runtime and as ONNX QDQ in onnxruntime-node (bit-exact with the runtime's onnx mode), and
// compared with the float model without labels: validate --task. (Their TFLite export runs in LiteRT: test/targets/tflite/realworld.test.ts.)
import { describe, expect, it } from 'vitest';
import { quantize, validate } from '../../src/index.js';
import type { ValidateReport } from '../../src/api/validate.js';
import { FlexqError } from '../../src/errors.js';
import { loadModel } from '../../src/load-model.js';
import { checkReconstructionSupported } from '../../src/quant/reconstruct.js';
import { data, model } from '../helpers/shared.js';

const PHOTOS = data('imagenet-sample');
const SELFIE = model('mediapipe-selfie-segmentation/model.tflite');
const FACE = model('mediapipe-face-detection/model.tflite');
// 8 photos calibrate; 3 others (from offset 500) are compared. Known gap: on photo 503 one SE AveragePool output
// rounds a tie the other way in onnxruntime's QLinearAveragePool (float average), which the runtime's AveragePool
// does not emulate (runtime/kernels/average-pool.ts), and 773 mask bytes then differ.
const calib = { calib: PHOTOS, limit: 8, method: 'rtn', wbits: 8, abits: 8, seed: 0, batch: 8 } as const;
const held = { data: PHOTOS, offset: 500, limit: 3, batch: 3, modes: ['tflite-single', 'onnx'], executors: ['runtime', 'ort-node'] } as const;

/** Output elements where the QDQ model in onnxruntime-node differs from the runtime's onnx mode. */
const ortMismatches = (r: ValidateReport): number => r.mismatches['runtime (onnx)']['ort-node'];

describe('validate --task on MediaPipe models (W8A8 RTN, per-tensor weights)', () => {
  it('segmentation: mask IoU at 0.5 and SQNR / cosine of the mask output, in two runtime modes', async () => {
    const q = await quantize(SELFIE, { ...calib, preprocess: 'mediapipe-selfie' });
    const r = await validate(SELFIE, q, { ...held, preprocess: 'mediapipe-selfie', task: 'segmentation' });
    expect(r.task).toBe('segmentation');
    expect(r.floatTop1).toBeUndefined();
    expect(r.executors.map((e) => e.executor)).toEqual(['runtime (tflite-single)', 'runtime (onnx)', 'ort-node']);
    // Resize (bilinear, half-pixel) and the transposed conv included: zero differing bytes.
    expect(ortMismatches(r)).toBe(0);
    for (const e of r.executors) {
      expect(Object.keys(e.outputs)).toEqual(['activation_10']);
      expect(e.segmentation!.count).toBe(3);
      // Per-tensor weights lose much of this depthwise model (its channels' weight ranges differ 60×): floors under
      // what these 3 photos give, so a kernel bug (IoU near 0) still fails.
      expect(e.segmentation!.maskIou).toBeGreaterThan(0.2);
      expect(e.segmentation!.pooledMaskIou).toBeGreaterThan(0.2);
      expect(e.outputs.activation_10.cosine).toBeGreaterThan(0.6);
    }
    // Validated as the default classifier, the 65,536-value mask is no class list: no confusion matrix (2^32 counts).
    const asClassifier = await validate(SELFIE, q, { ...held, limit: 1, modes: ['tflite-single'], executors: ['runtime'], preprocess: 'mediapipe-selfie' });
    expect(asClassifier.executors[0].confusion).toEqual([]);
    expect(asClassifier.executors[0].output.sqnrDb).toBeGreaterThan(0);
  });

  it('detection: top-score agreement and the IoU of the top box, per output SQNR', async () => {
    const q = await quantize(FACE, { ...calib, preprocess: 'mediapipe-face' });
    const r = await validate(FACE, q, { ...held, preprocess: 'mediapipe-face', task: 'detection' });
    // Channel Pad and the NHWC Transposes before the Reshapes included.
    expect(ortMismatches(r)).toBe(0);
    for (const e of r.executors) {
      expect(Object.keys(e.outputs).sort()).toEqual(['classificators', 'regressors']);
      expect(e.detection!.count).toBe(3);
      expect(e.detection!.topScoreAgreement).toBeGreaterThanOrEqual(0);
      expect(e.detection!.topBoxIou).toBeGreaterThan(0.6);
      expect(e.outputs.regressors.cosine).toBeGreaterThan(0.95);
    }
  });

  it('FlexRound on BlazeFace (reconstruction through its channel Pads): runtime and QDQ in onnxruntime-node agree', async () => {
    // A small learning rate: one step must not move the rounding far (the default for short budgets is 1/iterations).
    const q = await quantize(FACE, { ...calib, method: 'flexround', iters: 2, lr: 1e-3, preprocess: 'mediapipe-face' });
    expect(q.info.method).toBe('flexround');
    const r = await validate(FACE, q, { ...held, modes: ['onnx'], preprocess: 'mediapipe-face', task: 'detection' });
    expect(ortMismatches(r)).toBe(0);
    expect(r.executors[0].detection!.topBoxIou).toBeGreaterThan(0.6);
  });

  it('reconstruction runs every node of Selfie Segmentation up to its last learned layer (squeeze-excite Mul, Sigmoid, Resize)', () => {
    const { graph } = loadModel(SELFIE);
    expect(graph.nodes.filter((n) => ['Mul', 'Sigmoid', 'Resize'].includes(n.op)).length).toBe(24);
    expect(() => checkReconstructionSupported(graph, 'layer')).not.toThrow();
  });

  it('refuses a task the outputs cannot answer before reading any data', async () => {
    const q = await quantize(FACE, { ...calib, limit: 2, preprocess: 'mediapipe-face' });
    const error = await validate(FACE, q, { ...held, data: '/nonexistent', preprocess: 'mediapipe-face', task: 'segmentation' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlexqError);
    expect((error as FlexqError).code).toBe('BAD_ARGUMENT');
    expect((error as FlexqError).message).toContain('not a Sigmoid');
  });
});
