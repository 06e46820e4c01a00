// quantize --target and compile refuse a model with nodes the target cannot deploy before any calibration, listing
// every such node with why and which targets can run it, and write nothing.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDeployable } from '../../src/api/registry.js';
import { FlexqError } from '../../src/errors.js';
import { loadModel } from '../../src/load-model.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const out = mkdtempSync(join(tmpdir(), 'flexq-deployable-'));

function refusal(run: () => void): FlexqError {
  try {
    run();
  } catch (e) {
    if (e instanceof FlexqError) return e;
    throw e;
  }
  throw new Error('expected a FlexqError');
}

describe('deployability, checked before calibration', () => {
  it('lists every ppocr-cls node the C target cannot run, with the targets that can', () => {
    const { graph } = loadModel(model('ppocr-cls/model.onnx'), { inputShape: [1, 3, 48, 192] });
    const e = refusal(() => checkDeployable(graph, 'cortex-m4'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    const lines = e.message.split('\n').filter((l) => l.startsWith('  node '));
    const muls = graph.nodes.filter((n) => n.op === 'Mul').length;
    // HardSigmoid has a C kernel and (as a GATHER table) a TFLite form: only the Muls are left.
    expect(lines.length).toBe(muls);
    expect(e.message).toContain(`${lines.length} node(s) cannot be deployed on cortex-m4`);
    expect(lines.filter((l) => l.includes('(Mul): the C target has no Mul kernel; deployable on: a100, onnx, tflite')).length).toBe(muls);
    // The same graph deploys on the ONNX QDQ and TFLite targets and on the A100 (runtime for non-GEMM ops).
    expect(() => checkDeployable(graph, 'onnx')).not.toThrow();
    expect(() => checkDeployable(graph, 'tflite')).not.toThrow();
    expect(() => checkDeployable(graph, 'a100')).not.toThrow();
  });

  it('Selfie Segmentation (Resize, ConvTranspose) and BlazeFace (Transpose, Pad) deploy on the TFLite and ONNX QDQ targets', () => {
    for (const file of ['mediapipe-selfie-segmentation/model.tflite', 'mediapipe-face-detection/model.tflite']) {
      const { graph } = loadModel(model(file));
      expect(() => checkDeployable(graph, 'tflite')).not.toThrow();
      expect(() => checkDeployable(graph, 'onnx')).not.toThrow();
    }
    expect(() => checkDeployable(loadModel(model('mediapipe-face-detection/model.tflite')).graph, 'no-such-target')).toThrow(/expected one of cortex-m4/);
  });

  it('compile --target cortex-m4 exits 1 before calibrating and leaves no folder', async () => {
    const folder = join(out, 'selfie-m4');
    const compiled = await flexq('compile', model('mediapipe-selfie-segmentation/model.tflite'), '--calib', data('imagenet-sample'), '--preprocess', 'mediapipe-selfie', '--limit', '2', '--target', 'cortex-m4', '-o', folder);
    expect(compiled.code).toBe(1);
    expect(compiled.stderr).toContain("node 'segment' (ConvTranspose): the C target has no ConvTranspose kernel");
    expect(compiled.stderr).not.toContain('calibrate');
    expect(existsSync(folder)).toBe(false);
  });
});
