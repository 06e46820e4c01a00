import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantize, type QuantizeOptions } from '../../src/index.js';
import { FlexqError } from '../../src/errors.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { decodeFq, encodeFq, FQ_VERSION, readFq, writeFq } from '../../src/quant/fq-file.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const options = (o: Partial<QuantizeOptions>): QuantizeOptions => ({
  calib: data('cifar10/calib-1024'), method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: 'none', batch: 32, limit: 256, ...o,
});

let dir: string;
let q: QuantizedGraph;
let bytes: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flexq-fq-'));
  q = await quantize(model('resnet8-cifar10/float.onnx'), options({}));
  bytes = encodeFq(q);
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof FlexqError ? `${e.code}: ${e.message}` : `not a FlexqError: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('.fq file', () => {
  it('loads back identical: same integers, scales, graph, and the same bytes when written again', () => {
    const path = join(dir, 'r8.fq');
    writeFq(path, q);
    const back = readFq(path);
    expect(verifyGraph(back.graph)).toEqual([]);
    expect(back.info).toEqual(q.info);
    expect([...back.activations]).toEqual([...q.activations]);
    expect([...back.weights.keys()]).toEqual([...q.weights.keys()]);
    for (const [k, w] of q.weights) expect(back.weights.get(k)).toEqual(w);
    for (const [k, b] of q.biases) expect(back.biases.get(k)).toEqual(b);
    for (const [k, v] of q.graph.values) expect(back.graph.values.get(k)?.data, k).toEqual(v.data);
    expect(encodeFq(back)).toEqual(bytes);
  });

  it('holds 8-bit weights in [−127, 127] and int32 biases at s_in·s_w', () => {
    for (const w of q.weights.values()) {
      expect(Math.min(...w.values)).toBeGreaterThanOrEqual(-127);
      expect(w.scale).toBe(Math.fround(w.scale));
    }
    expect(q.biases.size).toBe(10);
  });

  it('is deterministic: the same seed and data give the same bytes', async () => {
    expect(encodeFq(await quantize(model('resnet8-cifar10/float.onnx'), options({})))).toEqual(bytes);
  });

  it('rejects a truncated file', () => {
    expect(codeOf(() => decodeFq(bytes.subarray(0, bytes.length - 100), 't.fq'))).toMatch(/^MODEL_INVALID: t.fq: checksum mismatch/);
    expect(codeOf(() => decodeFq(bytes.subarray(0, 30), 't.fq'))).toMatch(/^MODEL_PARSE: t.fq/);
  });

  it('rejects a file from a newer format version, saying to upgrade', () => {
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, FQ_VERSION + 1, true);
    expect(codeOf(() => decodeFq(newer, 'n.fq'))).toMatch(new RegExp(`^MODEL_INVALID: n.fq: .fq format version ${FQ_VERSION + 1} was written by a newer flexq.*upgrade`));
  });

  it('rejects an edited file', () => {
    const edited = bytes.slice();
    edited[edited.length - 7] ^= 1;
    expect(codeOf(() => decodeFq(edited, 'e.fq'))).toMatch(/^MODEL_INVALID: e.fq: checksum mismatch/);
  });

  it('the CLI names the file and exits 1 on a bad .fq, 2 on a bad option', async () => {
    const bad = join(dir, 'bad.fq');
    writeFileSync(bad, bytes.subarray(0, 5000));
    const r = await flexq('eval', bad, '--data', data('cifar10/test-200'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
    const w = await flexq('quantize', model('resnet8-cifar10/float.onnx'), '--calib', data('cifar10/calib-1024'), '--wbits', '5', '-o', join(dir, 'x.fq'));
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--wbits 5');
  });

  it('flexq quantize writes the file atomically and prints a JSON summary', async () => {
    const out = join(dir, 'cli.fq');
    const r = await flexq('quantize', model('resnet8-cifar10/float.onnx'), '--calib', data('cifar10/calib-1024'), '--limit', '256', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: 'rtn', wbits: 8, abits: 8, layers: 10, calibrationSamples: 256 });
    expect(readFileSync(out)).toEqual(Buffer.from(bytes));
  });
});
