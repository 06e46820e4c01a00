import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { fail } from '../src/errors.js';
import { formatShape } from '../src/ir/shape.js';
import { openImageFolder } from './image-folder.js';
import { openNpyFile } from './npy-source.js';
import { PREPROCESS_PRESETS, withOverrides, type PreprocessPreset } from './preprocess.js';
import { sliceSource, type SampleSource } from './sample-source.js';
import type { DataSpec, Dataset, Layout } from './types.js';

export type { Batch, DataSpec, Dataset, Layout, Preprocess, PreprocessOverrides } from './types.js';
export { PREPROCESS_PRESETS } from './preprocess.js';
export { parseNpy, type NpyArray } from './npy.js';

const LAYOUTS: readonly Layout[] = ['nchw', 'nhwc'];

/** Opens DATA (an ImageFolder directory or a .npy file) as a lazy, deterministic dataset of NCHW float32 samples. */
export async function openDataset(spec: DataSpec): Promise<Dataset> {
  const preset = checkedPreset(spec);
  checkSampleShape(spec.sampleShape, preset);
  const offset = checkedCount(spec.offset ?? 0, '--offset', 0);
  const limit = spec.limit === undefined ? undefined : checkedCount(spec.limit, '--limit', 1);
  return sliceSource(await openSource(spec, preset), { offset, limit });
}

async function openSource(spec: DataSpec, preset: PreprocessPreset): Promise<SampleSource> {
  if (await isFolder(spec.path)) {
    if (spec.labels !== undefined) fail('BAD_ARGUMENT', `${spec.path}: an ImageFolder's labels come from its class folder names; drop --labels ${spec.labels}.`);
    return openImageFolder(spec.path, preset, spec.sampleShape);
  }
  if (extname(spec.path).toLowerCase() !== '.npy') {
    fail('BAD_ARGUMENT', `${spec.path}: DATA must be an ImageFolder directory (one sub-folder per class) or a .npy file.`);
  }
  return openNpyFile(spec.path, spec.labels, spec.layout ?? 'nchw', preset, spec.sampleShape);
}

async function isFolder(path: string): Promise<boolean> {
  const stats = await stat(path).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT'
      ? fail('FILE_NOT_FOUND', `${path}: no such file or folder; DATA is an ImageFolder directory or a .npy file.`)
      : fail('DATA_READ', `${path}: cannot read (${e.message}).`));
  return stats.isDirectory();
}

// Specs arrive from the command line as strings, so the unions are checked at run time too.
function checkedPreset(spec: DataSpec): PreprocessPreset {
  if (!Object.hasOwn(PREPROCESS_PRESETS, spec.preprocess)) {
    fail('BAD_ARGUMENT', `--preprocess ${spec.preprocess}: unknown preset; use one of ${Object.keys(PREPROCESS_PRESETS).join(', ')}.`);
  }
  if (spec.layout !== undefined && !LAYOUTS.includes(spec.layout)) {
    fail('BAD_ARGUMENT', `--layout ${spec.layout}: unknown layout; use one of ${LAYOUTS.join(', ')}.`);
  }
  return withOverrides(PREPROCESS_PRESETS[spec.preprocess], spec.overrides ?? {});
}

function checkSampleShape(sampleShape: readonly number[], preset: PreprocessPreset): void {
  if (sampleShape.length === 0 || !sampleShape.every((d) => Number.isInteger(d) && d > 0)) {
    fail('BAD_ARGUMENT', `input shape ${formatShape(sampleShape)}: every dimension must be a positive integer; give dynamic dimensions with --input-shape.`);
  }
  if (preset.channels !== undefined && sampleShape[0] !== preset.channels) {
    fail('BAD_ARGUMENT', `--preprocess: the preset normalises ${preset.channels} channels but the model input ${formatShape(sampleShape)} has ${sampleShape[0]}; pick another preset.`);
  }
}

function checkedCount(value: number, flag: string, least: number): number {
  if (!Number.isInteger(value) || value < least) fail('BAD_ARGUMENT', `${flag} ${value}: must be an integer ≥ ${least}.`);
  return value;
}
