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
    const hardSigmoids = graph.nodes.filter((n) => n.op === 'HardSigmoid').length;
    expect(lines.length).toBe(muls + hardSigmoids);
    expect(e.message).toContain(`${lines.length} node(s) cannot be deployed on cortex-m4`);
    expect(lines.filter((l) => l.includes('(Mul): the C target has no Mul kernel; deployable on: a100, onnx, tflite')).length).toBe(muls);
    expect(lines.filter((l) => l.includes('(HardSigmoid): no TFLite builtin for HardSigmoid') && l.endsWith('deployable on: a100, onnx')).length).toBe(hardSigmoids);
    // The same graph deploys on the ONNX QDQ target and on the A100 (runtime for non-GEMM ops).
    expect(() => checkDeployable(graph, 'onnx')).not.toThrow();
    expect(() => checkDeployable(graph, 'a100')).not.toThrow();
  });

  it('lists the Selfie Segmentation nodes the TFLite export has no builtin for; the ONNX QDQ export takes them all', () => {
    const { graph } = loadModel(model('mediapipe-selfie-segmentation/model.tflite'));
    const e = refusal(() => checkDeployable(graph, 'tflite'));
    expect(e.message).toContain('4 node(s) cannot be deployed on tflite');
    for (const name of ['up_sampling2d', 'up_sampling2d_1', 'up_sampling2d_2']) expect(e.message).toContain(`node '${name}' (Resize): the TFLite export has no builtin operator for Resize; deployable on: a100, onnx`);
    expect(e.message).toContain("node 'segment' (ConvTranspose): the TFLite export has no builtin operator for ConvTranspose; deployable on: a100, onnx");
    expect(() => checkDeployable(graph, 'onnx')).not.toThrow();
    expect(() => checkDeployable(graph, 'no-such-target')).toThrow(/expected one of cortex-m4/);
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
