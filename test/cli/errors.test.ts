import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { flexq } from '../helpers/cli.js';
import { encodeModel, floatInitializer, tensorInput } from '../helpers/onnx-fixtures.js';
import { data, model } from '../helpers/shared.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flexq-errors-'));
});

/** Each bad input exits 1 with a message that names the file/node/tensor, and no stack trace. */
async function expectUserError(args: string[], code: string, ...mentions: string[]): Promise<void> {
  const r = await flexq(...args);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(`[${code}]`);
  for (const m of mentions) expect(r.stderr).toContain(m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input gives exit code 1 and a message naming what is wrong', () => {
  it('a truncated model', async () => {
    const f = join(dir, 'truncated.onnx');
    writeFileSync(f, readFileSync(model('resnet8-cifar10/float.onnx')).subarray(0, 5000));
    await expectUserError(['inspect', f], 'MODEL_PARSE', f, 'truncated');
  });

  it('a file that is not ONNX', async () => {
    const f = join(dir, 'notes.onnx');
    writeFileSync(f, 'these are not the weights you are looking for\n');
    await expectUserError(['inspect', f], 'MODEL_PARSE', f);
  });

  it('an unknown op, listed with every other unknown op at once', async () => {
    const f = join(dir, 'unknown-op.onnx');
    writeFileSync(f, encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 4])],
      output: [{ name: 'z' }],
      node: [
        { name: 'weird_1', opType: 'Einsum', input: ['x'], output: ['y'] },
        { name: 'weird_2', opType: 'Celu', input: ['y'], output: ['z'] },
      ],
    }));
    await expectUserError(['inspect', f], 'UNSUPPORTED_OP', f, "'weird_1' (Einsum)", "'weird_2' (Celu)");
  });

  it('a missing initializer', async () => {
    const f = join(dir, 'missing-weight.onnx');
    writeFileSync(f, encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 1, 4, 4])],
      output: [{ name: 'y' }],
      initializer: [floatInitializer('b', [1], [0])],
      node: [{ name: 'conv_1', opType: 'Conv', input: ['x', 'w', 'b'], output: ['y'], attribute: [{ name: 'kernel_shape', type: 7, ints: [3, 3] }] }],
    }));
    await expectUserError(['inspect', f], 'MISSING_TENSOR', f, "'conv_1'", "'w'");
  });

  it('a missing model file', async () => {
    await expectUserError(['inspect', join(dir, 'nope.onnx')], 'FILE_NOT_FOUND', 'nope.onnx');
  });

  it('data of the wrong shape', async () => {
    // KWS features [1000,49,10] fed to the CIFAR ResNet-8 ([3,32,32]).
    await expectUserError(['eval', model('resnet8-cifar10/float.onnx'), '--data', data('kws/features.npy'), '--labels', data('kws/labels.npy')], 'DATA_SHAPE', 'features.npy', '[3,32,32]');
  });

  it('an empty data folder', async () => {
    const empty = join(dir, 'empty-data');
    mkdirSync(empty);
    await expectUserError(['eval', model('resnet8-cifar10/float.onnx'), '--data', empty], 'DATA_EMPTY', empty);
  });

  it('bad arguments exit 2', async () => {
    expect((await flexq('eval', model('resnet8-cifar10/float.onnx'))).code).toBe(2);
    expect((await flexq('inspect', model('ppocr-cls/model.onnx'), '--input-shape', '1,x-3')).code).toBe(2);
    expect((await flexq('frobnicate')).code).toBe(2);
  });

  it('--verbose adds the stack trace', async () => {
    const r = await flexq('inspect', join(dir, 'nope.onnx'), '--verbose');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('inspect', () => {
  it('summarises a model as JSON: ops, params, shapes, MACs', async () => {
    const r = await flexq('inspect', model('resnet8-cifar10/float.onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.inputs[0]).toMatchObject({ name: 'T0', shape: ['N', 3, 32, 32] });
    expect(s.ops.Conv).toBe(9);
    // ResNet-8 (MLPerf Tiny): 78k parameters, 12.5 M MACs per image.
    expect(s.params).toBeGreaterThan(77_000);
    expect(s.params).toBeLessThan(79_000);
    expect(s.macs / 1e6).toBeCloseTo(12.5, 0);
  });

  it('needs --input-shape only for dims the model leaves open', async () => {
    const r = await flexq('inspect', model('ppocr-cls/model.onnx'), '--input-shape', 'N,3,48,192', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0].shape).toEqual(['N', 2]);
  });
});

