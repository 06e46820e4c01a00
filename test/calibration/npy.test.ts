import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, parseNpy, type Batch, type DataSpec, type NpyArray } from '../../calibration/index.js';
import { FlexqError } from '../../src/errors.js';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const KWS = { features: join(DATA, 'kws/features.npy'), labels: join(DATA, 'kws/labels.npy') };
const MNIST = { images: join(DATA, 'mnist/test-images.npy'), labels: join(DATA, 'mnist/test-labels.npy') };

/** A .npy file as numpy writes it: magic, version, header length, dict padded with spaces to 64 bytes, then the data. */
function npyBytes(descr: string, shape: readonly number[], data: ArrayBufferView, { major = 1, fortran = false } = {}): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.map((d) => `${d},`).join(' ')}), }`;
  const header = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1) + '\n';
  const bytes = new Uint8Array(prefix + header.length + data.byteLength);
  bytes.set([0x93, ...Buffer.from('NUMPY'), major, 0]);
  new DataView(bytes.buffer)[major === 1 ? 'setUint16' : 'setUint32'](8, header.length, true);
  bytes.set(Buffer.from(header, 'latin1'), prefix);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + header.length);
  return bytes;
}

/** The float32 data of a numpy-written v1 .npy file, read straight from its bytes. */
function rawFloat32(bytes: Buffer): Float32Array {
  const dataStart = 10 + bytes.readUInt16LE(8);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + bytes.byteLength));
}

/** Any parsed values (int64 ones are bigint) as plain numbers. */
function numbers(values: NpyArray['values']): number[] {
  return Array.from(values as ArrayLike<number | bigint>, Number);
}

async function allBatches(spec: DataSpec, batchSize: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of (await openDataset(spec)).batches(batchSize)) batches.push(batch);
  return batches;
}

async function rejection(promise: Promise<unknown>): Promise<FlexqError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(FlexqError);
  return error as FlexqError;
}

describe('parseNpy', () => {
  const values = [-5, -1, 0, 1, 2, 100];
  const dtypes: [string, ArrayBufferView][] = [
    ['<f4', Float32Array.from(values)],
    ['<f8', Float64Array.from(values)],
    ['|i1', Int8Array.from(values)],
    ['<i2', Int16Array.from(values)],
    ['<i4', Int32Array.from(values)],
    ['<i8', BigInt64Array.from(values.map(BigInt))],
  ];

  it.each(dtypes)('reads %s values in C order', (descr, data) => {
    const array = parseNpy(npyBytes(descr, [2, 3], data), 'x.npy');
    expect(array.shape).toEqual([2, 3]);
    expect(numbers(array.values)).toEqual(values);
  });

  it('reads unsigned bytes, header versions 1, 2 and 3, and data at an odd buffer offset', () => {
    expect(numbers(parseNpy(npyBytes('|u1', [3], Uint8Array.of(0, 128, 255)), 'u.npy').values)).toEqual([0, 128, 255]);
    for (const major of [1, 2, 3]) {
      expect(numbers(parseNpy(npyBytes('<f4', [2], Float32Array.of(1.5, -2), { major }), 'v.npy').values)).toEqual([1.5, -2]);
    }
    const shifted = new Uint8Array(npyBytes('<f8', [1], Float64Array.of(0.1)).length + 1);
    shifted.set(npyBytes('<f8', [1], Float64Array.of(0.1)), 1);
    expect(parseNpy(shifted.subarray(1), 'odd.npy').values[0]).toBe(0.1);
  });

  it('reads the real kws features as numpy wrote them', async () => {
    const array = parseNpy(await readFile(KWS.features), KWS.features);
    expect([array.descr, array.shape]).toEqual(['<f4', [1000, 49, 10]]);
  });

  it.each([
    ['fortran order', npyBytes('<f4', [2, 2], new Float32Array(4), { fortran: true }), 'Fortran order'],
    ['an unsupported dtype', npyBytes('<c8', [1], new Float64Array(1)), "'<c8' is not supported"],
    ['a big-endian dtype', npyBytes('>f4', [1], new Float32Array(1)), "'>f4' is not supported"],
    ['truncated data', npyBytes('<f4', [4], new Float32Array(2)), 'truncated'],
    ['a file that is not .npy', new TextEncoder().encode('hello, world'), 'not a .npy file'],
  ])('fails DATA_READ on %s, naming the file', (_, bytes, what) => {
    let error: unknown;
    try {
      parseNpy(bytes, 'bad.npy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlexqError);
    expect((error as FlexqError).code).toBe('DATA_READ');
    expect((error as FlexqError).message).toContain('bad.npy');
    expect((error as FlexqError).message).toContain(what);
  });
});

describe('.npy datasets on real data', () => {
  it('kws: [1000,49,10] fits [1,49,10]; values bit-equal the file, labels from labels.npy', async () => {
    const spec: DataSpec = { path: KWS.features, labels: KWS.labels, preprocess: 'none', sampleShape: [1, 49, 10] };
    const dataset = await openDataset(spec);
    expect([dataset.size, dataset.labeled]).toEqual([1000, true]);
    const batches = await allBatches(spec, 300);
    expect(batches.map((b) => b.count)).toEqual([300, 300, 300, 100]);
    const file = rawFloat32(await readFile(KWS.features));
    const loaded = new Float32Array(1000 * 490);
    batches.forEach((b, i) => loaded.set(b.data, i * 300 * 490));
    expect(Buffer.from(loaded.buffer).equals(Buffer.from(file.buffer))).toBe(true);
    const labels = parseNpy(await readFile(KWS.labels), KWS.labels).values;
    expect(batches[0].labels![0]).toBe(numbers(labels)[0]);
    expect(Array.from(batches[3].labels!)).toEqual(numbers(labels).slice(900));
    expect(batches[0].ids[1]).toBe(`${KWS.features}[1]`);
  });

  it('kws: offset/limit select rows', async () => {
    const [batch] = await allBatches({ path: KWS.features, preprocess: 'none', sampleShape: [1, 49, 10], offset: 500, limit: 3 }, 8);
    expect(batch.count).toBe(3);
    expect(batch.labels).toBeUndefined();
    expect(batch.ids).toEqual([500, 501, 502].map((i) => `${KWS.features}[${i}]`));
    expect(batch.data).toEqual(rawFloat32(await readFile(KWS.features)).subarray(500 * 490, 503 * 490));
  });

  it("mnist: uint8 [10000,28,28] fits [1,28,28]; 'unit' maps to x/255 in [0,1]", async () => {
    const [batch] = await allBatches({ path: MNIST.images, labels: MNIST.labels, preprocess: 'unit', sampleShape: [1, 28, 28], limit: 1000 }, 1000);
    expect(batch.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(batch.data.reduce((a, b) => Math.max(a, b))).toBe(1);
    const pixels = parseNpy(await readFile(MNIST.images), MNIST.images).values;
    expect(batch.data.subarray(0, 784)).toEqual(Float32Array.from(pixels.subarray(0, 784) as Uint8Array, (x) => x / 255));
    expect(batch.labels![0]).toBe(Number(parseNpy(await readFile(MNIST.labels), MNIST.labels).values[0]));
  });
});

describe('.npy dataset fixtures', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flexq-npy-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeNpy(name: string, descr: string, shape: readonly number[], data: ArrayBufferView): Promise<string> {
    const file = join(root, name);
    await writeFile(file, npyBytes(descr, shape, data));
    return file;
  }

  it("transposes [N,H,W,C] rows to NCHW with layout 'nhwc', and says so when the layout is missing", async () => {
    // Value = 100·h + 10·w + c, so each element says where it came from.
    const hwc = Float32Array.from({ length: 2 * 2 * 3 * 2 }, (_, i) => 100 * Math.floor(i / 6 % 2) + 10 * Math.floor(i / 2 % 3) + (i % 2) + 1000 * Math.floor(i / 12));
    const file = await writeNpy('nhwc.npy', '<f4', [2, 2, 3, 2], hwc);
    const [batch] = await allBatches({ path: file, preprocess: 'none', layout: 'nhwc', sampleShape: [2, 2, 3] }, 2);
    expect(Array.from(batch.data.subarray(12, 24))).toEqual([1000, 1010, 1020, 1100, 1110, 1120, 1001, 1011, 1021, 1101, 1111, 1121]);
    const error = await rejection(openDataset({ path: file, preprocess: 'none', sampleShape: [2, 2, 3] }));
    expect(error.code).toBe('DATA_SHAPE');
    expect(error.message).toContain('--layout nhwc');
  });

  it('fails DATA_SHAPE on rows of the wrong shape, naming the file and both shapes', async () => {
    const file = await writeNpy('wrong.npy', '<f4', [4, 5, 6], new Float32Array(120));
    const error = await rejection(openDataset({ path: file, preprocess: 'none', sampleShape: [1, 49, 10] }));
    expect(error.code).toBe('DATA_SHAPE');
    expect(error.message).toContain(file);
    expect(error.message).toContain('[5,6]');
    expect(error.message).toContain('[1,49,10]');
    expect(error.message).toContain('--input-shape');
  });

  it('fails DATA_SHAPE on labels whose count differs from the data, naming the labels file', async () => {
    const data = await writeNpy('data.npy', '<f4', [3, 2], new Float32Array(6));
    const labels = await writeNpy('labels.npy', '<i8', [2], new BigInt64Array(2));
    const error = await rejection(openDataset({ path: data, labels, preprocess: 'none', sampleShape: [2] }));
    expect(error.code).toBe('DATA_SHAPE');
    expect(error.message).toContain(labels);
  });

  it('fails DATA_EMPTY on an array with no rows, and FILE_NOT_FOUND on a missing data or labels file', async () => {
    const empty = await writeNpy('empty.npy', '<f4', [0, 2], new Float32Array(0));
    const emptyError = await rejection(openDataset({ path: empty, preprocess: 'none', sampleShape: [2] }));
    expect([emptyError.code, emptyError.message.includes(empty)]).toEqual(['DATA_EMPTY', true]);
    const missing = join(root, 'missing.npy');
    const noData = await rejection(openDataset({ path: missing, preprocess: 'none', sampleShape: [2] }));
    expect([noData.code, noData.message.includes(missing)]).toEqual(['FILE_NOT_FOUND', true]);
    const data = await writeNpy('two.npy', '<f4', [1, 2], new Float32Array(2));
    const noLabelsFile = await rejection(openDataset({ path: data, labels: missing, preprocess: 'none', sampleShape: [2] }));
    expect([noLabelsFile.code, noLabelsFile.message.includes(missing)]).toEqual(['FILE_NOT_FOUND', true]);
  });

  it("applies a preset's per-channel statistics to .npy pixels already at the model's size", async () => {
    const file = await writeNpy('pixels.npy', '|u1', [1, 3, 1, 1], Uint8Array.of(255, 0, 128));
    const [batch] = await allBatches({ path: file, preprocess: 'imagenet', sampleShape: [3, 1, 1] }, 1);
    const f32 = Math.fround;
    expect(Array.from(batch.data)).toEqual([
      f32(f32(1 - f32(0.485)) / f32(0.229)),
      f32(f32(0 - f32(0.456)) / f32(0.224)),
      f32(f32(f32(128 / 255) - f32(0.406)) / f32(0.225)),
    ]);
  });
});
