// Writes the demo: a trained model.onnx, a held-out test ImageFolder and a calibration ImageFolder.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { fail } from '../errors.js';
import { BAR_CLASSES, BAR_SIZE, drawBars, seededStream, type BarSet } from './synthetic-bars.js';
import { encodeDemoOnnx, trainDemoModel, type TrainProgress } from './train-demo-model.js';

export const TEST_IMAGES_PER_CLASS = 50;
export const CALIBRATION_IMAGES_PER_CLASS = 64;

export interface DemoFiles {
  /** DIR/model.onnx: input `image` [1,1,16,16] in [0, 1] (`--preprocess unit`), output `logits` [1,8] (one per class of BAR_CLASSES). */
  readonly model: string;
  /** DIR/test: held-out labelled images for eval. */
  readonly test: string;
  readonly testImages: number;
  /** DIR/calib: images for calibration, from a stream disjoint from training and test. */
  readonly calib: string;
  readonly calibImages: number;
  readonly trainSeconds: number;
}

/** Writes to a hidden temporary name beside the target, then renames, so a reader never sees half a file. */
async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.flexq-tmp-${process.pid}-${basename(path)}`);
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** One folder per class (sorted name = label), images named by their index within the class. */
async function writeImageFolder(root: string, bars: BarSet): Promise<void> {
  await Promise.all(BAR_CLASSES.map((name) => mkdir(join(root, name), { recursive: true })));
  const written = new Array<number>(BAR_CLASSES.length).fill(0);
  for (const [i, pixels] of bars.images.entries()) {
    const label = bars.labels[i];
    const png = await sharp(pixels, { raw: { width: BAR_SIZE, height: BAR_SIZE, channels: 1 } }).png().toBuffer();
    await writeFileAtomically(join(root, BAR_CLASSES[label], `${String(written[label]++).padStart(3, '0')}.png`), png);
  }
}

/** Trains the demo model from `seed` and writes DIR/model.onnx, DIR/test/<class>/*.png and DIR/calib/<class>/*.png. */
export async function writeDemo(dir: string, seed: number, onProgress?: TrainProgress): Promise<DemoFiles> {
  // Made before training, so a folder that cannot be made fails at once rather than after the training.
  await mkdir(dir, { recursive: true }).catch((e: Error) => fail('FILE_SYSTEM', `${dir}: cannot create the folder (${e.message}); pick another path.`));
  const trained = await trainDemoModel(seed, onProgress);
  const files = {
    model: join(dir, 'model.onnx'),
    test: join(dir, 'test'),
    testImages: TEST_IMAGES_PER_CLASS * BAR_CLASSES.length,
    calib: join(dir, 'calib'),
    calibImages: CALIBRATION_IMAGES_PER_CLASS * BAR_CLASSES.length,
    trainSeconds: trained.seconds,
  };
  await writeFileAtomically(files.model, encodeDemoOnnx(trained.weights));
  await writeImageFolder(files.test, drawBars(files.testImages, seededStream(seed, 'test')));
  await writeImageFolder(files.calib, drawBars(files.calibImages, seededStream(seed, 'calib')));
  return files;
}
