import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centreCrop, interleaveClasses, resizeShortSide } from '../../calibration/image-folder.js';
import { openDataset, type Batch, type DataSpec, type Dataset } from '../../calibration/index.js';
import { FlexqError } from '../../src/errors.js';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const TEST_200 = join(DATA, 'cifar10/test-200');
const IMAGENET = join(DATA, 'imagenet-sample');
const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const f32 = Math.fround;

async function allBatches(dataset: Dataset, batchSize: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of dataset.batches(batchSize)) batches.push(batch);
  return batches;
}

async function firstBatch(spec: DataSpec, batchSize = 1): Promise<Batch> {
  const [batch] = await allBatches(await openDataset({ ...spec, limit: batchSize }), batchSize);
  return batch;
}

/** Decodes a file with sharp directly, as an independent reference: HWC bytes. */
async function decodeReference(file: string): Promise<{ pixels: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

async function rejection(promise: Promise<unknown>): Promise<FlexqError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(FlexqError);
  return error as FlexqError;
}

describe('ImageFolder on cifar10/test-200', () => {
  const spec: DataSpec = { path: TEST_200, preprocess: 'none', sampleShape: [3, 32, 32] };

  it('loads 200 labelled samples of [3,32,32] in 10 sorted classes', async () => {
    const dataset = await openDataset(spec);
    expect(dataset.size).toBe(200);
    expect(dataset.sampleShape).toEqual([3, 32, 32]);
    expect(dataset.classNames).toEqual(CIFAR_CLASSES);
    expect(dataset.labeled).toBe(true);
    const batches = await allBatches(dataset, 64);
    expect(batches.map((b) => b.count)).toEqual([64, 64, 64, 8]);
    expect(batches[3].data.length).toBe(8 * 3 * 32 * 32);
  });

  it("delivers the first sample as the PNG's raw RGB pixels, NCHW", async () => {
    const batch = await firstBatch(spec);
    expect(batch.ids[0]).toBe(join(TEST_200, 'airplane', 'airbus_s_002266.png'));
    const png = await decodeReference(batch.ids[0]);
    expect([png.width, png.height, png.channels]).toEqual([32, 32, 3]);
    const expected = new Float32Array(3 * 32 * 32);
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) expected[c * 1024 + p] = png.pixels[p * 3 + c];
    expect(batch.data).toEqual(expected);
  });

  it('interleaves the classes round-robin, skipping classes that ran out', async () => {
    const labels = (await allBatches(await openDataset(spec), 200))[0].labels!;
    expect(Array.from(labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const counts = await Promise.all(CIFAR_CLASSES.map(async (name) => (await readdir(join(TEST_200, name))).length));
    const expected = interleaveClasses(counts.map((n, label) => Array.from({ length: n }, () => String(label))));
    expect(Array.from(labels)).toEqual(expected.map((e) => e.label));
  });

  it('cuts offset/limit from that order, with the same bytes as the full run', async () => {
    const [full] = await allBatches(await openDataset(spec), 200);
    const part = await openDataset({ ...spec, offset: 10, limit: 25 });
    expect(part.size).toBe(25);
    const batches = await allBatches(part, 10);
    expect(batches.map((b) => b.count)).toEqual([10, 10, 5]);
    expect(batches.flatMap((b) => b.ids)).toEqual(full.ids.slice(10, 35));
    expect(batches[1].data).toEqual(full.data.subarray(20 * 3072, 30 * 3072));
    expect((await openDataset({ ...spec, offset: 195, limit: 10 })).size).toBe(5);
  });

  it('fails DATA_EMPTY when the offset skips every sample', async () => {
    const error = await rejection(openDataset({ ...spec, offset: 200 }));
    expect(error.code).toBe('DATA_EMPTY');
    expect(error.message).toContain(TEST_200);
  });
});

describe('ImageFolder with the imagenet preset', () => {
  const MEAN = [0.485, 0.456, 0.406];
  const STD = [0.229, 0.224, 0.225];

  it('centre-crops a 341×256 JPEG to [3,224,224] and normalises with ImageNet mean/std', async () => {
    const dataset = await openDataset({ path: IMAGENET, preprocess: 'imagenet', sampleShape: [3, 224, 224], limit: 1 });
    expect(dataset.classNames?.length).toBe(1000);
    const [batch] = await allBatches(dataset, 1);
    expect(basename(batch.ids[0])).toBe('n01440764_tench.JPEG');
    const jpeg = await decodeReference(batch.ids[0]);
    expect([jpeg.width, jpeg.height]).toEqual([341, 256]);
    const [top, left] = [16, 58]; // round(32/2), round(117/2) = 58 (half to even)
    const meanOf = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0) / values.length;
    for (let c = 0; c < 3; c++) {
      const plane = batch.data.subarray(c * 224 * 224, (c + 1) * 224 * 224);
      const pixels = Array.from({ length: 224 * 224 }, (_, p) => jpeg.pixels[((Math.floor(p / 224) + top) * 341 + (p % 224) + left) * 3 + c]);
      const expected = pixels.map((x) => f32(f32(f32(x / 255) - f32(MEAN[c])) / f32(STD[c])));
      expect(plane).toEqual(Float32Array.from(expected));
      expect(meanOf(plane)).toBeCloseTo((meanOf(pixels) / 255 - MEAN[c]) / STD[c], 5);
    }
  });
});

describe('geometry helpers', () => {
  it('crops at torchvision CenterCrop offsets (Python round: half to even)', () => {
    const image = (width: number, height: number) => ({ pixels: new Uint8Array(0), width, height });
    expect(centreCrop(image(341, 256), 224, 224)).toEqual({ top: 16, left: 58, height: 224, width: 224 });
    expect(centreCrop(image(343, 256), 224, 224)).toMatchObject({ left: 60 });
    expect(centreCrop(image(224, 224), 224, 224)).toMatchObject({ top: 0, left: 0 });
  });

  it('resizes the short side to 256 and the long side to floor(256·long/short), and skips 256', async () => {
    const image = { pixels: new Uint8Array(300 * 400 * 3).fill(77), width: 300, height: 400 };
    const resized = await resizeShortSide(image, 256);
    expect([resized.width, resized.height]).toEqual([256, 341]);
    expect(resized.pixels.every((v) => v === 77)).toBe(true);
    const already = { pixels: new Uint8Array(256 * 300 * 3), width: 300, height: 256 };
    expect(await resizeShortSide(already, 256)).toBe(already);
  });
});

describe('ImageFolder fixtures', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flexq-calibration-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeImage(file: string, width: number, height: number, rgb: [number, number, number]): Promise<string> {
    await mkdir(dirname(file), { recursive: true });
    const [r, g, b] = rgb;
    await sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toFile(file);
    return file;
  }

  it('resizes a non-256 image with the imagenet preset: a uniform colour stays uniform', async () => {
    const folder = join(root, 'uniform');
    await writeImage(join(folder, 'a', 'x.png'), 300, 400, [128, 64, 200]);
    const batch = await firstBatch({ path: folder, preprocess: 'imagenet', sampleShape: [3, 224, 224] });
    const expected = [128, 64, 200].map((x, c) => f32(f32(f32(x / 255) - f32([0.485, 0.456, 0.406][c])) / f32([0.229, 0.224, 0.225][c])));
    for (let c = 0; c < 3; c++) expect(batch.data.subarray(c * 224 * 224, (c + 1) * 224 * 224).every((v) => v === expected[c])).toBe(true);
  });

  it("gives a 1-channel model PIL's luma, and pm1 values", async () => {
    const folder = join(root, 'grey');
    await writeImage(join(folder, 'a', 'x.png'), 28, 28, [200, 100, 50]);
    const luma = (200 * 19595 + 100 * 38470 + 50 * 7471 + 0x8000) >> 16;
    const none = await firstBatch({ path: folder, preprocess: 'none', sampleShape: [1, 28, 28] });
    expect(none.data.every((v) => v === luma)).toBe(true);
    const pm1 = await firstBatch({ path: folder, preprocess: 'pm1', sampleShape: [1, 28, 28] });
    expect(pm1.data[0]).toBe(f32(f32(f32(luma / 255) - 0.5) / 0.5));
  });

  it('reads classes from sorted folder names and images with any-case extensions, ignoring other files', async () => {
    const folder = join(root, 'mixed');
    await writeImage(join(folder, 'b', 'one.PNG'), 4, 4, [1, 1, 1]);
    await writeImage(join(folder, 'a', 'two.png'), 4, 4, [2, 2, 2]);
    await writeFile(join(folder, 'a', 'notes.txt'), 'not an image');
    const dataset = await openDataset({ path: folder, preprocess: 'none', sampleShape: [3, 4, 4] });
    expect(dataset.classNames).toEqual(['a', 'b']);
    const [batch] = await allBatches(dataset, 8);
    expect(Array.from(batch.labels!)).toEqual([0, 1]);
    expect([batch.data[0], batch.data[48]]).toEqual([2, 1]);
  });

  it('fails DATA_EMPTY naming a folder without class folders, and one without images', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    const noClasses = await rejection(openDataset({ path: empty, preprocess: 'none', sampleShape: [3, 32, 32] }));
    expect(noClasses.code).toBe('DATA_EMPTY');
    expect(noClasses.message).toContain(empty);
    expect(noClasses.message).toContain('.png, .jpg, .jpeg');
    const noImages = join(root, 'no-images');
    await mkdir(join(noImages, 'cat'), { recursive: true });
    await writeFile(join(noImages, 'cat', 'readme.txt'), 'x');
    const error = await rejection(openDataset({ path: noImages, preprocess: 'none', sampleShape: [3, 32, 32] }));
    expect(error.code).toBe('DATA_EMPTY');
    expect(error.message).toContain(noImages);
  });

  it('fails DATA_READ naming a corrupt image when its batch is read', async () => {
    const folder = join(root, 'corrupt');
    await writeImage(join(folder, 'a', 'good.png'), 32, 32, [0, 0, 0]);
    const bad = join(folder, 'a', 'zbad.png');
    await writeFile(bad, 'this is not a png');
    const dataset = await openDataset({ path: folder, preprocess: 'none', sampleShape: [3, 32, 32] });
    const error = await rejection(allBatches(dataset, 2));
    expect(error.code).toBe('DATA_READ');
    expect(error.message).toContain(bad);
  });

  it('fails DATA_SHAPE naming an image of the wrong size, and says what to do', async () => {
    const folder = join(root, 'wrong-size');
    const file = await writeImage(join(folder, 'a', 'x.png'), 40, 30, [9, 9, 9]);
    const error = await rejection(firstBatch({ path: folder, preprocess: 'unit', sampleShape: [3, 32, 32] }));
    expect(error.code).toBe('DATA_SHAPE');
    expect(error.message).toContain(file);
    expect(error.message).toContain('40×30');
    expect(error.message).toContain('32×32');
    expect(error.message).toContain('--preprocess imagenet');
  });

  it('fails FILE_NOT_FOUND naming a missing path', async () => {
    const missing = join(root, 'does-not-exist');
    const error = await rejection(openDataset({ path: missing, preprocess: 'none', sampleShape: [3, 32, 32] }));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain(missing);
  });

  it('fails BAD_ARGUMENT on labels for a folder, a bad batch size, offset, preset or channel count', async () => {
    const base: DataSpec = { path: TEST_200, preprocess: 'none', sampleShape: [3, 32, 32] };
    const dataset = await openDataset(base);
    const cases: (() => Promise<unknown>)[] = [
      () => openDataset({ ...base, labels: join(root, 'labels.npy') }),
      () => allBatches(dataset, 0),
      () => openDataset({ ...base, offset: -1 }),
      () => openDataset({ ...base, preprocess: 'caffe' as DataSpec['preprocess'] }),
      () => openDataset({ ...base, preprocess: 'imagenet', sampleShape: [1, 224, 224] }),
    ];
    for (const run of cases) expect((await rejection(run())).code).toBe('BAD_ARGUMENT');
  });
});
