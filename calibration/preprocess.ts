import type { Preprocess } from './types.js';

/** What an image must go through before its pixels are read: used as-is, or resized and centre-cropped. */
export type Geometry =
  | { readonly kind: 'exact' }
  | { readonly kind: 'resize-crop'; readonly shortSide: number };

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

// Each step rounds to float32 as torchvision's ToTensor (x/255) and Normalize ((x−mean)/std) do, so values match it bit for bit.
export const PREPROCESS_PRESETS: Readonly<Record<Preprocess, PreprocessPreset>> = {
  none: { geometry: { kind: 'exact' }, value: (x) => f32(x) },
  unit: { geometry: { kind: 'exact' }, value: (x) => f32(f32(x) / 255) },
  pm1: { geometry: { kind: 'exact' }, value: (x) => f32(f32(f32(f32(x) / 255) - 0.5) / 0.5) },
  imagenet: {
    geometry: { kind: 'resize-crop', shortSide: 256 },
    channels: 3,
    value: (x, c) => f32(f32(f32(f32(x) / 255) - IMAGENET_MEAN[c]) / IMAGENET_STD[c]),
  },
};

/** One 256-entry table per channel: a byte's model value, so decoding an image is a lookup per pixel. */
export function byteLookupTables(preset: PreprocessPreset, channels: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: 256 }, (_, x) => preset.value(x, c)));
}
