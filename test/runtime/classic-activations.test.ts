// The classic activations that quantize cheaply (LeakyRelu, Elu, Tanh: 256-entry tables) run in the integer runtime
// bit-exact with onnxruntime on the exported QDQ model; the float-only classic ops (LRN) are refused by name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../src/api/npy.js';
import { quantize } from '../../src/api/quantize.js';
import { run } from '../../src/api/run.js';
import { validate } from '../../src/api/validate.js';
import { writeFq } from '../../src/quant/fq-file.js';
import { randomFloats } from '../helpers/graphs.js';
import { OnnxNet, float, int } from '../helpers/onnx-net.js';

const dir = mkdtempSync(join(tmpdir(), 'flexq-classic-activations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'x.npy');
writeFileSync(data, encodeNpyFloat32([8, 3, 8, 8], randomFloats(8 * 3 * 8 * 8, 9).map((v) => 2 * v)));

describe('classic activations on the integer path', () => {
  it('LeakyRelu, Elu and Tanh: the runtime (onnx mode) and onnxruntime-node agree on every output byte of the QDQ model', async () => {
    const net = new OnnxNet([1, 3, 8, 8]);
    const a = net.op('LeakyRelu', [net.conv('x', 3, 8, 3, { pad: 1 })], [float('alpha', 0.1)]);
    const b = net.op('Elu', [net.conv(a, 8, 8, 3, { pad: 1 })], [float('alpha', 0.7)]);
    const model = join(dir, 'activations.onnx');
    writeFileSync(model, net.bytes(net.conv(net.op('Tanh', [net.conv(b, 8, 8, 1)]), 8, 4, 1)));
    const q = await quantize(model, { calib: data });
    const report = await validate(model, q, { data, modes: ['onnx'], executors: ['runtime', 'ort-node'] });
    expect(report.mismatches['runtime (onnx)']['ort-node']).toBe(0);
    for (const e of report.executors) expect(e.output.sqnrDb).toBeGreaterThan(30);
  });

  it('LRN has no integer kernel: a quantized run names the node and says what the runtime supports', async () => {
    const net = new OnnxNet([1, 3, 8, 8]);
    const model = join(dir, 'lrn.onnx');
    writeFileSync(model, net.bytes(net.op('LRN', [net.conv('x', 3, 8, 3, { pad: 1 })], [int('size', 5)])));
    const q = join(dir, 'lrn.fq');
    writeFq(q, await quantize(model, { calib: data }));
    await expect(run(q, { data })).rejects.toThrow(/node '.*' \(LRN\) has no integer kernel; supported: .*Tanh/);
  });
});
