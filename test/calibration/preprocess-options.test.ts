// Photos of any size reach the model's input: the MediaPipe presets stretch them (0..1, −1..1), --resize short
// resizes the short side and centre-crops, --mean/--std normalise; all against sharp as an independent reference.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDataset, type DataSpec } from '../../calibration/index.js';
import { FlexqError } from '../../src/errors.js';

const f32 = Math.fround;

/** A 40×30 (W×H) RGB gradient PNG in a one-class ImageFolder, and its pixels. */
async function photoFolder(): Promise<{ root: string; pixels: Buffer }> {
  const root = await mkdtemp(join(tmpdir(), 'flexq-preprocess-'));
  mkdirSync(join(root, 'a'));
  const pixels = Buffer.alloc(40 * 30 * 3);
  for (let i = 0; i < 40 * 30; i++) [0, 1, 2].forEach((c) => (pixels[3 * i + c] = (i * (c + 3) * 7) % 256));
  await sharp(pixels, { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(join(root, 'a', 'x.png'));
  return { root, pixels };
}

async function sample(spec: DataSpec): Promise<Float32Array> {
  for await (const b of (await openDataset({ ...spec, limit: 1 })).batches(1)) return b.data;
  throw new Error('no sample');
}

/** sharp's own resize of the raw pixels (the same kernel the loader uses), as HWC bytes. */
async function resized(pixels: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width: 40, height: 30, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
}

describe('preprocessing presets and options', () => {
  it('mediapipe-selfie stretches to the model size, 0..1; mediapipe-face to −1..1 (NCHW out)', async () => {
    const { root, pixels } = await photoFolder();
    const ref = await resized(pixels, 16, 8);
    const selfie = await sample({ path: root, preprocess: 'mediapipe-selfie', sampleShape: [3, 8, 16] });
    const face = await sample({ path: root, preprocess: 'mediapipe-face', sampleShape: [3, 8, 16] });
    for (let p = 0; p < 8 * 16; p++)
      for (let c = 0; c < 3; c++) {
        expect(selfie[c * 128 + p]).toBe(f32(ref[3 * p + c] / 255));
        expect(face[c * 128 + p]).toBe(f32(f32(f32(ref[3 * p + c] / 255) - 0.5) / 0.5));
      }
  });

  it('--resize short (--size) resizes the short side and centre-crops; --mean/--std normalise per channel', async () => {
    const { root, pixels } = await photoFolder();
    // Short side 30 → 12: 40×30 becomes 16×12, then the centre 8×8 (offsets 2, 4).
    const ref = await resized(pixels, 16, 12);
    const mean = [0.1, 0.2, 0.3];
    const std = [0.5, 0.25, 2];
    const x = await sample({ path: root, preprocess: 'none', overrides: { resize: 'short', size: 12, mean, std }, sampleShape: [3, 8, 8] });
    for (let y = 0; y < 8; y++)
      for (let xx = 0; xx < 8; xx++)
        for (let c = 0; c < 3; c++) {
          const byte = ref[3 * ((y + 2) * 16 + xx + 4) + c];
          expect(x[c * 64 + y * 8 + xx]).toBe(f32(f32(f32(byte / 255) - f32(mean[c])) / f32(std[c])));
        }
    // Without --size the short side becomes the model's larger side: a centre crop of the whole short side.
    const whole = await sample({ path: root, preprocess: 'unit', overrides: { resize: 'short' }, sampleShape: [3, 8, 8] });
    const ref8 = await resized(pixels, 10, 8);
    expect(whole[0]).toBe(f32(ref8[3 * 1] / 255));
  });

  it('refuses a wrong-size image under an as-is preset, naming both fixes, and bad option values', async () => {
    const { root } = await photoFolder();
    const error = await sample({ path: root, preprocess: 'unit', sampleShape: [3, 8, 8] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlexqError);
    expect((error as FlexqError).message).toContain('--resize exact');
    const bad = [
      { resize: 'exact' as const, size: 10 },
      { std: [0] },
      { mean: [0.1, 0.2], std: [1, 2, 3] },
    ];
    for (const overrides of bad) {
      const e = await sample({ path: root, preprocess: 'unit', overrides, sampleShape: [3, 8, 8] }).catch((x: unknown) => x);
      expect((e as FlexqError).code).toBe('BAD_ARGUMENT');
    }
  });
});
