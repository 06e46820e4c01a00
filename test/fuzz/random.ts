import { mulberry32, type Random } from '../../src/random.js';

/** A seeded stream with the helpers mutators need; one per case, so a case is reproducible from (seed, index). */
export class Rng {
  private readonly next: Random;

  constructor(seed: number, index: number) {
    // Mix seed and index so neighbouring cases get unrelated streams.
    this.next = mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Integers that break size, index and range arithmetic. */
export const NASTY_INTS: readonly number[] = [0, -1, 1, 2, 3, -2, 7, 255, 256, 1000, 65535, 2 ** 24, 2 ** 28 + 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 40, 1e12, -1e12];
export const NASTY_FLOATS: readonly number[] = [NaN, Infinity, -Infinity, 0, -0, 1e-45, 1e38, -1e38, 3.4e39, 1e300, -1, 0.5];

/** A copy at offset 0 of its own buffer (Buffer.slice would return a view and let a mutation edit the base). */
export const copyBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** Flips 1–16 random bits. */
export function flipBits(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const out = copyBytes(bytes);
  const n = 1 + rng.int(16);
  for (let k = 0; k < n; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return { bytes: out, label: `flip ${n} bits` };
}

/** Cuts the file at a random length (biased towards keeping most of it, where parsers get furthest). */
export function truncate(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const keep = rng.chance(0.5) ? rng.int(bytes.length) : bytes.length - 1 - rng.int(Math.min(bytes.length - 1, 256));
  return { bytes: copyBytes(bytes.subarray(0, keep)), label: `truncate to ${keep} of ${bytes.length} bytes` };
}

/** Overwrites a 4-byte-aligned little-endian int32 with a nasty value (hits offsets, lengths, shapes, enums). */
export function overwriteInt32(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const out = copyBytes(bytes);
  const at = rng.int(Math.max(1, Math.floor(out.length / 4))) * 4;
  const v = rng.pick(NASTY_INTS);
  if (at + 4 <= out.length) new DataView(out.buffer).setInt32(at, v | 0, true);
  return { bytes: out, label: `int32 at ${at} := ${v | 0}` };
}
