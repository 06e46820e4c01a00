// The ONNX QDQ job through the real `flexq` executable: quantize → export --format onnx-qdq → run with each ORT
// executor (.npy outputs) → validate --executors runtime,ort-node,ort-web (zero differing outputs) → serve's checks.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../calibration/index.js';
import { flavourNote, pageConfig } from '../../targets/web/web-config.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const R8 = model('resnet8-cifar10/float.onnx');
const TEST = data('cifar10/test-200');

describe('flexq export --format onnx-qdq, run, validate, serve (ResNet-8)', () => {
  let dir: string;
  let fq: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flexq-qdq-cli-'));
    fq = join(dir, 'r8.fq');
    const r = await flexq('quantize', R8, '--calib', data('cifar10/calib-1024'), '--limit', '128', '-o', fq, '--json');
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports a QDQ model and runs it with ort-node and ort-web: the same outputs as the runtime in onnx mode', async () => {
    const out = join(dir, 'serve', 'model.qdq.onnx');
    const exported = await flexq('export', fq, '--format', 'onnx-qdq', '-o', out, '--json');
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).written).toEqual([out]);
    const outputs: Float32Array[] = [];
    for (const executor of ['runtime', 'ort-node', 'ort-web']) {
      const npy = join(dir, `${executor}.npy`);
      const r = await flexq('run', fq, '--data', TEST, '--limit', '20', '--executor', executor, '--mode', 'onnx', '-o', npy, '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { samples: { top5: number[]; label: number }[]; outputShape: number[] };
      expect(report.outputShape).toEqual([20, 10]);
      expect(report.samples.every((s) => s.top5.length === 5)).toBe(true);
      const array = parseNpy(readFileSync(npy), npy);
      expect(array.shape).toEqual([20, 10]);
      expect(array.descr).toBe('<f4');
      outputs.push(Float32Array.from(array.values as Float32Array));
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
  });

  it('eval takes lists: --executor runtime,ort-node --mode tflite-double,onnx gives one report per pair, in one JSON object', async () => {
    const r = await flexq('eval', fq, '--data', TEST, '--limit', '40', '--executor', 'runtime,ort-node', '--mode', 'tflite-double,onnx', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { reports } = JSON.parse(r.stdout) as { reports: { executor: string; top1: number; count: number }[] };
    expect(reports.map((x) => x.executor)).toEqual(['runtime (tflite-double)', 'runtime (onnx)', 'ort-node']);
    expect(reports.every((x) => x.count === 40)).toBe(true);
    // ort-node runs the onnx arithmetic: the same top-1 as the runtime in onnx mode.
    expect(reports[2].top1).toBe(reports[1].top1);
  });

  it('validate --executors runtime,ort-node,ort-web: zero differing outputs', async () => {
    const r = await flexq('validate', R8, fq, '--data', TEST, '--limit', '40', '--modes', 'onnx', '--executors', 'runtime,ort-node,ort-web', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { mismatches: Record<string, Record<string, number>>; executors: { executor: string }[] };
    expect(report.executors.map((e) => e.executor)).toEqual(['runtime (onnx)', 'ort-node', 'ort-web']);
    expect(Object.values(report.mismatches).flatMap((row) => Object.values(row))).toEqual(Array(9).fill(0));
  });

  it('serve refuses a directory without model.qdq.onnx, and a bad preset, without writing web.json', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const missing = await flexq('serve', empty, '--port', '0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('flexq export OUT.fq --format onnx-qdq');
    const bad = await flexq('serve', join(dir, 'serve'), '--port', '0', '--preprocess', 'bogus');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of none, unit, pm1, imagenet');
    expect(existsSync(join(dir, 'serve', 'web.json'))).toBe(false);
  });

  it("serve reads the flavour from the model's metadata and points a generic or ort-node model to the ort-web flavour", async () => {
    const notes: Record<string, string | undefined> = {};
    for (const flavour of ['generic', 'ort-web']) {
      const served = join(dir, `flavour-${flavour}`);
      const r = await flexq('export', fq, '--format', 'onnx-qdq', '--flavour', flavour, '-o', join(served, 'model.qdq.onnx'));
      expect(r.code, r.stderr).toBe(0);
      const config = pageConfig(served);
      expect(config.flavour).toBe(flavour);
      notes[flavour] = flavourNote(served, config);
      // An ort-node export needs 7-bit weights; its note depends only on the recorded flavour.
      if (flavour === 'generic') notes['ort-node'] = flavourNote(served, { ...config, flavour: 'ort-node' });
    }
    expect(notes['ort-web']).toBeUndefined();
    expect(notes.generic).toContain("'generic' QDQ flavour: its int8 activations take the slow s8·s8 kernels");
    expect(notes['ort-node']).toContain("'ort-node' QDQ flavour");
    for (const note of [notes.generic, notes['ort-node']]) expect(note).toContain('--flavour ort-web -o');
  });
});
