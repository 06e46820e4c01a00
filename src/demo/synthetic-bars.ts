// A deterministic synthetic image set for the demo: 16×16 greyscale bars in eight orientations.
// Every random choice comes from one seeded PRNG, so a seed names the exact same images everywhere.
import { mulberry32, type Random } from '../random.js';

/** Bar orientations in degrees, anticlockwise from horizontal: one class each, 22.5° apart. */
const ORIENTATIONS = [0, 22.5, 45, 67.5, 90, 112.5, 135, 157.5] as const;

/** Class folder names ('0-000deg' … '7-157deg'); sorted order is label order, as ImageFolder reads them. */
export const BAR_CLASSES: readonly string[] = ORIENTATIONS.map((deg, i) => `${i}-${String(Math.floor(deg)).padStart(3, '0')}deg`);
export const BAR_SIZE = 16;

/** A standard normal sample (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random(); // in (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The independent uses of one user seed; each gets its own PRNG stream, so test images are never training images. */
export const SEED_STREAMS = { weights: 1, train: 2, test: 3, calib: 4 } as const;

/** The PRNG for one use of a seed: the pair is hashed (murmur3 finaliser) so nearby seeds start far apart. */
export function seededStream(seed: number, stream: keyof typeof SEED_STREAMS): Random {
  let h = Math.imul(seed ^ Math.imul(SEED_STREAMS[stream], 0x9e3779b9), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return mulberry32(h ^ (h >>> 16));
}

const between = (random: Random, low: number, high: number): number => low + (high - low) * random();

const CENTRE = (BAR_SIZE - 1) / 2;

/** Per class, the unit normal (sin θ, cos θ) of its bar: a pixel's signed distance from the centre line is
 *  (x − c)·sin θ + (y − c)·cos θ − offset, with y growing downwards (θ = 0: horizontal, 45°: "/"). */
const BAR_NORMALS: readonly (readonly [number, number])[] = ORIENTATIONS.map((deg) => [Math.sin((deg * Math.PI) / 180), Math.cos((deg * Math.PI) / 180)]);

/** How far the centre line may lie from the image centre, so every bar crosses the middle of the image. */
const OFFSET_RANGE: readonly [number, number] = [-4, 4];

/** One bar of class `label` as 16×16 uint8 pixels: random position, thickness, brightness and noise. */
export function drawBar(label: number, random: Random): Uint8Array {
  const offset = between(random, ...OFFSET_RANGE);
  const halfWidth = between(random, 0.5, 1.5);
  const background = between(random, 0, 90);
  const bar = between(random, 130, 255);
  const noise = between(random, 8, 35);
  const [nx, ny] = BAR_NORMALS[label];
  const pixels = new Uint8Array(BAR_SIZE * BAR_SIZE);
  for (let y = 0; y < BAR_SIZE; y++)
    for (let x = 0; x < BAR_SIZE; x++) {
      // Coverage falls off over one pixel at the edge, so thin and off-grid bars are antialiased, not aliased.
      const distance = (x - CENTRE) * nx + (y - CENTRE) * ny - offset;
      const coverage = Math.min(1, Math.max(0, halfWidth + 0.5 - Math.abs(distance)));
      const value = background + (bar - background) * coverage + noise * normal(random);
      pixels[y * BAR_SIZE + x] = Math.min(255, Math.max(0, Math.round(value)));
    }
  return pixels;
}

export interface BarSet {
  readonly images: readonly Uint8Array[];
  readonly labels: readonly number[];
}

/** `count` bars with labels cycling through the classes (0, 1, …, 7, 0, …), so every class is equally present. */
export function drawBars(count: number, random: Random): BarSet {
  const labels = Array.from({ length: count }, (_, i) => i % BAR_CLASSES.length);
  return { images: labels.map((label) => drawBar(label, random)), labels };
}
