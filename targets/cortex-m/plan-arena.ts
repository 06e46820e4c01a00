// The static arena of the generated C: every intermediate tensor and kernel scratch buffer gets an offset, and two
// buffers share bytes only when their lifetimes (the steps from the one that writes it to the last that reads it)
// do not overlap. Greedy by size, largest first, each at the lowest offset that fits (TFLite-Micro's
// GreedyMemoryPlanner does the same), every offset aligned to 8 bytes.

export interface ArenaBuffer {
  readonly id: string;
  readonly bytes: number;
  /** Steps first..last (inclusive) use the buffer. */
  readonly first: number;
  readonly last: number;
}

export interface ArenaPlan {
  readonly offsets: ReadonlyMap<string, number>;
  readonly size: number;
}

export const ARENA_ALIGNMENT = 8;

const alignUp = (n: number): number => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

export function planArena(buffers: readonly ArenaBuffer[]): ArenaPlan {
  const order = [...buffers].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id.localeCompare(b.id));
  const placed: { buffer: ArenaBuffer; offset: number }[] = [];
  const offsets = new Map<string, number>();
  let size = 0;
  for (const buffer of order) {
    const live = placed
      .filter((p) => p.buffer.first <= buffer.last && buffer.first <= p.buffer.last)
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of live) {
      if (offset + buffer.bytes <= p.offset) break;
      offset = Math.max(offset, alignUp(p.offset + p.buffer.bytes));
    }
    placed.push({ buffer, offset });
    offsets.set(buffer.id, offset);
    size = Math.max(size, alignUp(offset + buffer.bytes));
  }
  return { offsets, size };
}
