// quantize --target and compile refuse a model with nodes the target cannot deploy before any calibration, listing
// every such node with why and which targets can run it, and write nothing.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDeployable } from '../../src/api/registry.js';
import { FlexqError } from '../../src/errors.js';
import { loadModel } from '../../src/load-model.js';
import { flexq } from '../helpers/cli.js';
import { float, OnnxNet } from '../helpers/onnx-net.js';
import { data, model } from '../helpers/shared.js';

const out = mkdtempSync(join(tmpdir(), 'flexq-deployable-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A conv net with LeakyRelu and Tanh: tables in the integer runtime, no C kernel. */
const classic = join(out, 'classic.onnx');
const net = new OnnxNet([1, 3, 8, 8]);
writeFileSync(classic, net.bytes(net.op('Tanh', [net.op('LeakyRelu', [net.conv('x', 3, 4, 3)], [float('alpha', 0.1)])])));

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
  it('lists every node the C target cannot run, with the targets that can', () => {
    const { graph } = loadModel(classic);
    const e = refusal(() => checkDeployable(graph, 'cortex-m4'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    const lines = e.message.split('\n').filter((l) => l.startsWith('  node '));
    expect(lines.length).toBe(2);
    expect(e.message).toContain('2 node(s) cannot be deployed on cortex-m4');
    expect(lines[0]).toMatch(/\(LeakyRelu\): the C target has no LeakyRelu kernel; deployable on: a100, onnx$/);
    expect(lines[1]).toMatch(/\(Tanh\): the C target has no Tanh kernel; deployable on: a100, onnx$/);
    // ppocr-cls (squeeze-excite Mul, HardSigmoid: a C kernel, and a GATHER table in TFLite) deploys everywhere.
    const ppocr = loadModel(model('ppocr-cls/model.onnx'), { inputShape: [1, 3, 48, 192] }).graph;
    for (const target of ['cortex-m4', 'onnx', 'tflite', 'a100']) expect(() => checkDeployable(ppocr, target)).not.toThrow();
  });

  it('Selfie Segmentation (Resize, ConvTranspose) and BlazeFace (Transpose, Pad, two outputs) deploy on the C, TFLite and ONNX QDQ targets', () => {
    for (const file of ['mediapipe-selfie-segmentation/model.tflite', 'mediapipe-face-detection/model.tflite']) {
      const { graph } = loadModel(model(file));
      for (const target of ['cortex-m7', 'tflite', 'onnx']) expect(() => checkDeployable(graph, target)).not.toThrow();
    }
    expect(() => checkDeployable(loadModel(model('mediapipe-face-detection/model.tflite')).graph, 'no-such-target')).toThrow(/expected one of cortex-m4/);
  });

  it('compile --target cortex-m4 exits 1 before calibrating and leaves no folder', async () => {
    const folder = join(out, 'classic-m4');
    const compiled = await flexq('compile', classic, '--calib', data('imagenet-sample'), '--limit', '2', '--target', 'cortex-m4', '-o', folder);
    expect(compiled.code).toBe(1);
    expect(compiled.stderr).toContain('(Tanh): the C target has no Tanh kernel');
    expect(compiled.stderr).not.toContain('calibrate');
    expect(existsSync(folder)).toBe(false);
  });
});
