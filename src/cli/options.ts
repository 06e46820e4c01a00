// Parsing command-line strings into the API's typed options; every error names the flag (exit 2).
import type { Command } from 'commander';
import type { Layout, Preprocess } from '../../calibration/index.js';
import type { DataOptions } from '../api/data.js';
import { fail } from '../errors.js';
import type { Dim } from '../ir/shape.js';

/** `--input-shape 1,3,48,192` (a symbol such as N keeps a dim dynamic). */
export function parseInputShape(text: string | undefined): Dim[] | undefined {
  if (text === undefined) return undefined;
  const dims = text.split(',').map((d) => d.trim());
  if (dims.some((d) => d === '' || (/^\d+$/.test(d) ? Number(d) < 1 : !/^[A-Za-z_]\w*$/.test(d))))
    fail('BAD_ARGUMENT', `--input-shape '${text}': expected comma-separated positive sizes or names, e.g. 1,3,48,192`);
  return dims.map((d) => (/^\d+$/.test(d) ? Number(d) : d));
}

/** A non-negative integer option such as --limit or --batch. */
export function parseCount(name: string, min = 0): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) fail('BAD_ARGUMENT', `${name} '${text}': expected an integer ≥ ${min}`);
    return v;
  };
}

/** A value that must be one of `allowed`, typed as that union. */
export function oneOf<T extends string | number>(flag: string, value: string | number | undefined, allowed: readonly T[], hint = ''): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => String(a) === String(value));
  if (found === undefined) fail('BAD_ARGUMENT', `${flag} ${value}: expected one of ${allowed.join(', ')}${hint}`);
  return found;
}

/** `--mean 0.5,0.5,0.5`: comma-separated numbers. */
export function parseNumbers(flag: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v))) fail('BAD_ARGUMENT', `${flag} '${text}': expected comma-separated numbers, e.g. 0.5,0.5,0.5`);
  return values;
}

/** A comma-separated list (`--executors runtime,ort-node`), or 'all'. */
export function parseList(text: string): string[] | 'all' {
  return text.trim() === 'all' ? 'all' : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The data flags as commander hands them over. */
export interface DataFlags {
  labels?: string;
  preprocess: string;
  resize?: string;
  size?: number;
  mean?: string;
  std?: string;
  layout?: string;
  limit?: number;
  offset?: number;
  inputShape?: string;
  batch: number;
}

export function dataOptions(f: DataFlags): DataOptions {
  return {
    labels: f.labels,
    preprocess: f.preprocess as Preprocess, // checked by the data loader, which names --preprocess
    preprocessOverrides: {
      resize: oneOf('--resize', f.resize, ['short', 'exact'] as const),
      size: f.size,
      mean: parseNumbers('--mean', f.mean),
      std: parseNumbers('--std', f.std),
    },
    layout: f.layout as Layout | undefined,
    limit: f.limit,
    offset: f.offset,
    inputShape: parseInputShape(f.inputShape),
    batch: f.batch,
  };
}

/** The data flags every command that reads DATA takes (`--data`, or `--calib` for quantize and compile). */
export function addDataOptions(cmd: Command, flag: '--data' | '--calib' = '--data'): Command {
  return cmd
    .requiredOption(`${flag} <path>`, 'ImageFolder directory or .npy file')
    .option('--labels <file>', '.npy of integer labels (for .npy data)')
    .option('--preprocess <preset>', 'none | unit | pm1 | imagenet | mediapipe-selfie | mediapipe-face', 'none')
    .option('--resize <mode>', 'images to the model size: short (short side, then centre crop) | exact (stretch)')
    .option('--size <n>', 'with --resize short: the short side to resize to before the crop', parseCount('--size', 1))
    .option('--mean <values>', 'per-channel mean on the 0..1 scale, e.g. 0.485,0.456,0.406: input = (pixel/255 − mean)/std')
    .option('--std <values>', 'per-channel std on the 0..1 scale, e.g. 0.229,0.224,0.225')
    .option('--layout <layout>', 'layout of 4-D .npy samples: nchw | nhwc')
    .option('--limit <n>', 'use at most N samples', parseCount('--limit', 1))
    .option('--offset <n>', 'skip the first N samples', parseCount('--offset'))
    .option('--input-shape <dims>', 'concrete dims for dynamic input dims, e.g. 1,3,48,192')
    .option('--batch <n>', 'samples per batch', parseCount('--batch', 1), 32);
}
