import { readFile } from 'node:fs/promises';
import { fail } from '../src/errors.js';
import { formatShape, sizeOf } from '../src/ir/shape.js';
import { parseNpy, type NpyArray } from './npy.js';
import type { PreprocessPreset } from './preprocess.js';
import type { SampleSource } from './sample-source.js';
import type { Layout } from './types.js';

/** How a .npy row is laid out relative to the model's NCHW sample. */
export type RowOrder = 'same' | 'nhwc';

/**
 * A .npy file whose first axis is the samples, as a sample source. The file is read once; rows are
 * converted to float32 per batch. Presets act on values only: rows must already be the model's size.
 */
export async function openNpyFile(
  file: string, labelsFile: string | undefined, layout: Layout, preset: PreprocessPreset, sampleShape: readonly number[],
): Promise<SampleSource> {
  const array = parseNpy(await readWholeFile(file), file);
  const rows = array.shape.length > 0 ? array.shape[0] : 0;
  if (rows === 0) fail('DATA_EMPTY', `${file}: the array ${formatShape(array.shape)} holds no samples; its first axis is the sample axis.`);
  const rowShape = array.shape.slice(1);
  const sourceOffsets = rowGather(checkRowOrder(file, rowShape, sampleShape, layout), rowShape);
  const labels = labelsFile === undefined ? undefined : await readLabels(labelsFile, file, rows);
  const channelSize = sizeOf(sampleShape.slice(1));
  const { values } = array;
  return {
    path: file,
    count: rows,
    sampleShape,
    labeled: labels !== undefined,
    labelOf: (index) => (labels ? labels[index] : -1),
    idOf: (index) => `${file}[${index}]`,
    readInto: async (index, out) => {
      const base = index * sourceOffsets.length;
      for (let i = 0; i < out.length; i++) {
        out[i] = preset.value(Number(values[base + sourceOffsets[i]]), Math.floor(i / channelSize));
      }
    },
  };
}

/** Which order fits: the sample shape once size-1 axes are ignored, or (layout nhwc, 3-D rows) [H,W,C] read as [C,H,W]. */
export function matchRowOrder(rowShape: readonly number[], sampleShape: readonly number[], layout: Layout): RowOrder | undefined {
  if (layout === 'nhwc' && rowShape.length === 3) return sameIgnoringOnes(nhwcToNchw(rowShape), sampleShape) ? 'nhwc' : undefined;
  return sameIgnoringOnes(rowShape, sampleShape) ? 'same' : undefined;
}

function checkRowOrder(file: string, rowShape: readonly number[], sampleShape: readonly number[], layout: Layout): RowOrder {
  const order = matchRowOrder(rowShape, sampleShape, layout);
  if (order) return order;
  const looksNhwc = layout !== 'nhwc' && matchRowOrder(rowShape, sampleShape, 'nhwc') !== undefined;
  const hint = looksNhwc
    ? 'the rows look like [H,W,C]: pass --layout nhwc'
    : 'pass --layout nhwc if the file is [N,H,W,C], --input-shape if the model input has dynamic dimensions, or reshape the file';
  return fail('DATA_SHAPE', `${file}: samples have shape ${formatShape(rowShape)} (layout ${layout}) but the model input wants ${formatShape(sampleShape)} (size-1 axes ignored); ${hint}.`);
}

/** For each element of the NCHW sample, its offset in the file's row. */
function rowGather(order: RowOrder, rowShape: readonly number[]): Int32Array {
  const size = sizeOf(rowShape);
  if (order === 'same') return Int32Array.from({ length: size }, (_, i) => i);
  const [height, width, channels] = rowShape;
  const plane = height * width;
  // Sample element (c, p) with p = y·W + x sits at p·C + c in an [H,W,C] row.
  return Int32Array.from({ length: size }, (_, i) => (i % plane) * channels + Math.floor(i / plane));
}

function nhwcToNchw([h, w, c]: readonly number[]): number[] {
  return [c, h, w];
}

function sameIgnoringOnes(a: readonly number[], b: readonly number[]): boolean {
  const x = a.filter((d) => d !== 1);
  const y = b.filter((d) => d !== 1);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

async function readLabels(labelsFile: string, dataFile: string, rows: number): Promise<Int32Array> {
  const labels: NpyArray = parseNpy(await readWholeFile(labelsFile), labelsFile);
  if (!labels.integer) fail('DATA_READ', `${labelsFile}: labels must be integers; found dtype '${labels.descr}' (convert with arr.astype('<i8')).`);
  if (labels.shape.length === 0 || labels.shape[0] !== rows || sizeOf(labels.shape) !== labels.shape[0]) {
    fail('DATA_SHAPE', `${labelsFile}: labels have shape ${formatShape(labels.shape)} but ${dataFile} holds ${rows} samples; expected [${rows}], one label per sample.`);
  }
  return Int32Array.from({ length: rows }, (_, i) => Number(labels.values[i]));
}

async function readWholeFile(file: string): Promise<Uint8Array> {
  return readFile(file).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT'
      ? fail('FILE_NOT_FOUND', `${file}: no such file.`)
      : fail('DATA_READ', `${file}: cannot read (${e.message}).`));
}
