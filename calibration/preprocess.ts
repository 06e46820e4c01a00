import { fail } from '../src/errors.js';
import type { Preprocess, PreprocessOverrides } from './types.js';

/**
 * What an image goes through before its pixels are read, to reach the model's H×W:
 * as-is (it must already be H×W), exact (resized to H×W, aspect ratio not kept), or resize-crop
 * (short side resized to `shortSide`, or to max(H, W)/cropFraction when that is unset, then centre-cropped to H×W).
 */
export type Geometry =
  | { readonly kind: 'as-is' }
  | { readonly kind: 'exact' }
  | { readonly kind: 'resize-crop'; readonly shortSide?: number; readonly cropFraction?: number };

/** How `--resize` names the geometries a user can ask for. */
export type ResizeMode = 'short' | 'exact';

export interface PreprocessPreset {
  readonly geometry: Geometry;
  /** The channel count the preset's statistics are for; undefined when it works for any. */
  readonly channels?: number;
  /** Maps a raw value (0..255 for pixels) of channel c to the model's input value, in float32 steps. */
  readonly value: (x: number, channel: number) => number;
}

const f32 = Math.fround;
const IMAGENET_MEAN = [0.485, 0.456, 0.406].map(f32);
const IMAGENET_STD = [0.229, 0.224, 0.225].map(f32);

/** (x/255 − mean)/std with torchvision's float32 steps (ToTensor, then Normalize), so values match it bit for bit. */
function normalised(mean: readonly number[], std: readonly number[]): (x: number, c: number) => number {
  const m = mean.map(f32);
  const s = std.map(f32);
  return (x, c) => f32(f32(f32(f32(x) / 255) - m[c % m.length]) / s[c % s.length]);
}

export const PREPROCESS_PRESETS: Readonly<Record<Preprocess, PreprocessPreset>> = {
  none: { geometry: { kind: 'as-is' }, value: (x) => f32(x) },
  unit: { geometry: { kind: 'as-is' }, value: (x) => f32(f32(x) / 255) },
  pm1: { geometry: { kind: 'as-is' }, value: normalised([0.5], [0.5]) },
  // torchvision's eval transform: Resize(256) + CenterCrop(224), i.e. the crop is 7/8 of the short side.
  imagenet: { geometry: { kind: 'resize-crop', cropFraction: 0.875 }, channels: 3, value: normalised(IMAGENET_MEAN, IMAGENET_STD) },
  // MediaPipe's image-to-tensor step stretches the frame to the model's input: 0..1 for Selfie Segmentation, −1..1 for BlazeFace.
  'mediapipe-selfie': { geometry: { kind: 'exact' }, channels: 3, value: (x) => f32(f32(x) / 255) },
  'mediapipe-face': { geometry: { kind: 'exact' }, channels: 3, value: normalised([0.5], [0.5]) },
};

/** A preset with the user's `--resize`, `--size`, `--mean` and `--std` applied; `where` names the data in errors. */
export function withOverrides(preset: PreprocessPreset, o: PreprocessOverrides): PreprocessPreset {
  const { resize, size, mean, std } = o;
  if (size !== undefined && !(Number.isInteger(size) && size > 0)) fail('BAD_ARGUMENT', `--size ${size}: expected an integer ≥ 1 (the short side to resize to)`);
  if (size !== undefined && resize === 'exact') fail('BAD_ARGUMENT', '--size is the short side of --resize short; --resize exact resizes to the model input itself: drop --size');
  for (const [flag, values] of [['--mean', mean], ['--std', std]] as const)
    if (values !== undefined && (values.length === 0 || values.some((v) => !Number.isFinite(v) || (flag === '--std' && v <= 0))))
      fail('BAD_ARGUMENT', `${flag} ${values.join(',')}: expected one value or one per channel, finite${flag === '--std' ? ' and > 0' : ''}`);
  if (mean !== undefined && std !== undefined && mean.length !== std.length && mean.length !== 1 && std.length !== 1)
    fail('BAD_ARGUMENT', `--mean has ${mean.length} values and --std ${std.length}: give one value or one per channel for each`);
  const geometry: Geometry =
    resize === 'exact' ? { kind: 'exact' } : resize === 'short' || size !== undefined ? { kind: 'resize-crop', shortSide: size, cropFraction: 1 } : preset.geometry;
  const normalise = mean !== undefined || std !== undefined;
  const channels = Math.max(mean?.length ?? 1, std?.length ?? 1);
  return {
    geometry,
    channels: normalise ? (channels > 1 ? channels : undefined) : preset.channels,
    value: normalise ? normalised(mean ?? [0], std ?? [1]) : preset.value,
  };
}

/** The short side an image is resized to before a centre crop to H×W. */
export function shortSideOf(geometry: Extract<Geometry, { kind: 'resize-crop' }>, height: number, width: number): number {
  return geometry.shortSide ?? Math.round(Math.max(height, width) / (geometry.cropFraction ?? 1));
}

/** One 256-entry table per channel: a byte's model value, so decoding an image is a lookup per pixel. */
export function byteLookupTables(preset: PreprocessPreset, channels: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: 256 }, (_, x) => preset.value(x, c)));
}
