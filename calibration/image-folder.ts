import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { fail } from '../src/errors.js';
import { formatShape } from '../src/ir/shape.js';
import { byteLookupTables, shortSideOf, type Geometry, type PreprocessPreset } from './preprocess.js';
import type { SampleSource } from './sample-source.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

export interface ImageEntry {
  readonly file: string;
  readonly label: number;
}

export interface ImageFolderListing {
  readonly classNames: string[];
  /** Every image, classes interleaved round-robin. */
  readonly entries: ImageEntry[];
}

/** Decoded pixels, HWC, 3 channels (sRGB, alpha dropped). */
export interface RgbImage {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** The window of an image that becomes the sample. */
export interface Crop {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/** An ImageFolder (one sub-folder per class) as a sample source; sampleShape is [C,H,W] with C 1 or 3. */
export async function openImageFolder(root: string, preset: PreprocessPreset, sampleShape: readonly number[]): Promise<SampleSource> {
  const [channels, height, width] = checkImageSampleShape(root, sampleShape);
  const { classNames, entries } = await listImageFolder(root);
  const tables = byteLookupTables(preset, channels);
  const writePlanes = PLANE_WRITERS[channels];
  return {
    path: root,
    count: entries.length,
    sampleShape,
    classNames,
    labeled: true,
    labelOf: (index) => entries[index].label,
    idOf: (index) => entries[index].file,
    readInto: async (index, out) => {
      const file = entries[index].file;
      const { image, crop } = await fitToModel(await decodeRgb(file), file, preset.geometry, height, width);
      writePlanes(image, crop, tables, out);
    },
  };
}

function checkImageSampleShape(root: string, sampleShape: readonly number[]): [number, number, number] {
  if (sampleShape.length !== 3 || !(sampleShape[0] in PLANE_WRITERS)) {
    fail('DATA_SHAPE', `${root}: images give samples [C,H,W] with C = 1 (greyscale) or 3 (RGB), but the model input wants ${formatShape(sampleShape)}; use a .npy file for other inputs.`);
  }
  return [sampleShape[0], sampleShape[1], sampleShape[2]];
}

/** Class folders sorted by name (label = position), their images sorted by name, then interleaved. */
export async function listImageFolder(root: string): Promise<ImageFolderListing> {
  const lookedFor = `one sub-folder per class holding ${IMAGE_EXTENSIONS.join(', ')} files (any case)`;
  const classNames = (await visibleEntries(root)).filter((e) => e.isDirectory).map((e) => e.name).sort();
  if (classNames.length === 0) fail('DATA_EMPTY', `${root}: no class folders found; expected ${lookedFor}.`);
  const filesByClass = await Promise.all(classNames.map((name) => listImages(join(root, name))));
  const entries = interleaveClasses(filesByClass);
  if (entries.length === 0) fail('DATA_EMPTY', `${root}: no images found in ${classNames.length} class folders; expected ${lookedFor}.`);
  return { classNames, entries };
}

async function listImages(folder: string): Promise<string[]> {
  return (await visibleEntries(folder))
    .filter((e) => !e.isDirectory && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort()
    .map((name) => join(folder, name));
}

interface FolderEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

// Hidden entries (.DS_Store, .ipynb_checkpoints) are never classes or images; symlinks count as what they point to.
async function visibleEntries(folder: string): Promise<FolderEntry[]> {
  const all = await readdir(folder, { withFileTypes: true })
    .catch((e: Error) => fail('DATA_READ', `${folder}: cannot list the folder (${e.message}).`));
  const dirents = all.filter((d) => !d.name.startsWith('.'));
  return Promise.all(dirents.map(async (d) => ({ name: d.name, isDirectory: await isDirectory(folder, d) })));
}

async function isDirectory(folder: string, entry: Dirent): Promise<boolean> {
  if (!entry.isSymbolicLink()) return entry.isDirectory();
  return (await stat(join(folder, entry.name)).catch(() => undefined))?.isDirectory() ?? false;
}

/** Round-robin over classes (every class's first file, then every second file, ...), skipping classes that ran out. */
export function interleaveClasses(filesByClass: readonly (readonly string[])[]): ImageEntry[] {
  const rounds = Math.max(0, ...filesByClass.map((files) => files.length));
  const entries: ImageEntry[] = [];
  for (let round = 0; round < rounds; round++) {
    filesByClass.forEach((files, label) => {
      if (round < files.length) entries.push({ file: files[round], label });
    });
  }
  return entries;
}

/** Decodes any PNG/JPEG to 8-bit sRGB (greyscale replicated, alpha dropped, no EXIF rotation, as PIL's convert('RGB')). */
export async function decodeRgb(file: string): Promise<RgbImage> {
  // failOn 'error' tolerates libjpeg warnings (extraneous bytes) as PIL does, but not truncated or broken data.
  const decoded = await sharp(file, { failOn: 'error' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((e: unknown) => fail('DATA_READ', `${file}: cannot decode the image (${e instanceof Error ? e.message : String(e)}); replace or remove the file.`));
  if (decoded.info.channels !== 3) fail('DATA_READ', `${file}: decoded to ${decoded.info.channels} channels, expected 3 (sRGB).`);
  return { pixels: decoded.data, width: decoded.info.width, height: decoded.info.height };
}

/** Brings a decoded image to the model's H×W as the preset's geometry says; the crop is the window that becomes the sample. */
async function fitToModel(image: RgbImage, file: string, geometry: Geometry, height: number, width: number): Promise<{ image: RgbImage; crop: Crop }> {
  switch (geometry.kind) {
    case 'as-is':
      return { image: checkExactSize(image, file, height, width), crop: { top: 0, left: 0, height, width } };
    case 'exact':
      return { image: await resizeTo(image, width, height), crop: { top: 0, left: 0, height, width } };
    case 'resize-crop':
      return resizeAndCentreCrop(image, file, shortSideOf(geometry, height, width), height, width);
  }
}

function checkExactSize(image: RgbImage, file: string, height: number, width: number): RgbImage {
  if (image.width !== width || image.height !== height) {
    fail('DATA_SHAPE', `${file}: image is ${image.width}×${image.height} (W×H) but the model input wants ${width}×${height}; pass --resize exact (stretch) or --resize short (resize and centre-crop), --preprocess imagenet, or resize the images to ${width}×${height}.`);
  }
  return image;
}

async function resizeAndCentreCrop(image: RgbImage, file: string, shortSide: number, height: number, width: number): Promise<{ image: RgbImage; crop: Crop }> {
  const resized = await resizeShortSide(image, shortSide);
  if (resized.width < width || resized.height < height) {
    fail('DATA_SHAPE', `${file}: resized to ${resized.width}×${resized.height} (W×H, short side ${shortSide}), the image is smaller than the model's ${width}×${height} crop; use a model input of at most ${shortSide}×${shortSide}.`);
  }
  return { image: resized, crop: centreCrop(resized, height, width) };
}

/** torchvision Resize(n): the short side becomes n, the long side floor(n·long/short); untouched when the short side is already n. */
export async function resizeShortSide(image: RgbImage, shortSide: number): Promise<RgbImage> {
  const short = Math.min(image.width, image.height);
  if (short === shortSide) return image;
  const scaled = (side: number) => (side === short ? shortSide : Math.floor((shortSide * side) / short));
  return resizeTo(image, scaled(image.width), scaled(image.height));
}

/** The image resized to width×height (untouched when it already is that size). */
async function resizeTo(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  // 'linear' is sharp's antialiased bilinear reduce, the closest to PIL's BILINEAR that torchvision uses.
  const resized = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { pixels: resized.data, width: resized.info.width, height: resized.info.height };
}

/** torchvision CenterCrop: offset = round((size − crop) / 2), Python's round (half to even). */
export function centreCrop(image: RgbImage, height: number, width: number): Crop {
  return { top: roundHalfToEven((image.height - height) / 2), left: roundHalfToEven((image.width - width) / 2), height, width };
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Writes the cropped pixels as planes (CHW) through per-channel byte tables, in one pass. */
type PlaneWriter = (image: RgbImage, crop: Crop, tables: readonly Float32Array[], out: Float32Array) => void;

const PLANE_WRITERS: Readonly<Record<number, PlaneWriter>> = { 1: writeLumaPlane, 3: writeRgbPlanes };

function writeRgbPlanes(image: RgbImage, crop: Crop, [red, green, blue]: readonly Float32Array[], out: Float32Array): void {
  const { pixels } = image;
  const plane = crop.height * crop.width;
  for (let y = 0; y < crop.height; y++) {
    let src = ((y + crop.top) * image.width + crop.left) * 3;
    let dst = y * crop.width;
    for (let x = 0; x < crop.width; x++, src += 3, dst++) {
      out[dst] = red[pixels[src]];
      out[plane + dst] = green[pixels[src + 1]];
      out[2 * plane + dst] = blue[pixels[src + 2]];
    }
  }
}

// PIL's convert('L') in integer form (ITU-R 601 luma); a greyscale source (R = G = B) comes back unchanged.
function writeLumaPlane(image: RgbImage, crop: Crop, [grey]: readonly Float32Array[], out: Float32Array): void {
  const { pixels } = image;
  for (let y = 0; y < crop.height; y++) {
    let src = ((y + crop.top) * image.width + crop.left) * 3;
    let dst = y * crop.width;
    for (let x = 0; x < crop.width; x++, src += 3, dst++) {
      out[dst] = grey[(pixels[src] * 19595 + pixels[src + 1] * 38470 + pixels[src + 2] * 7471 + 0x8000) >> 16];
    }
  }
}
